/** What the seeded marketplace trades and who trades it: plain data, picked by the seeded PRNG. */

export const FIRST_NAMES = [
  'Aarav', 'Priya', 'Rohan', 'Ananya', 'Vikram', 'Sneha', 'Arjun', 'Kavya', 'Rahul', 'Meera', 'Karan', 'Isha', 'Aditya', 'Pooja',
  'Siddharth', 'Nisha', 'Farhan', 'Zoya', 'Imran', 'Leela', 'Omar', 'Fatima', 'James', 'Emma', 'Daniel', 'Sofia', 'Ravi', 'Divya',
] as const;

export const LAST_NAMES = [
  'Sharma', 'Patel', 'Iyer', 'Reddy', 'Gupta', 'Nair', 'Mehta', 'Khan', 'Singh', 'Das', 'Joshi', 'Kapoor', 'Menon', 'Bose',
  'Chopra', 'Rao', 'Shah', 'Pillai', 'Al Mansoori', 'Clarke', 'Fernandes', 'Verma',
] as const;

export interface Place {
  city: string;
  state: string;
  country: string;
  currency: 'INR' | 'USD' | 'AED' | 'GBP';
}

export const PLACES: readonly Place[] = [
  { city: 'Mumbai', state: 'Maharashtra', country: 'IN', currency: 'INR' },
  { city: 'Pune', state: 'Maharashtra', country: 'IN', currency: 'INR' },
  { city: 'Delhi', state: 'Delhi', country: 'IN', currency: 'INR' },
  { city: 'Bengaluru', state: 'Karnataka', country: 'IN', currency: 'INR' },
  { city: 'Chennai', state: 'Tamil Nadu', country: 'IN', currency: 'INR' },
  { city: 'Tiruppur', state: 'Tamil Nadu', country: 'IN', currency: 'INR' },
  { city: 'Ahmedabad', state: 'Gujarat', country: 'IN', currency: 'INR' },
  { city: 'Surat', state: 'Gujarat', country: 'IN', currency: 'INR' },
  { city: 'Jaipur', state: 'Rajasthan', country: 'IN', currency: 'INR' },
  { city: 'Ludhiana', state: 'Punjab', country: 'IN', currency: 'INR' },
  { city: 'Kochi', state: 'Kerala', country: 'IN', currency: 'INR' },
  { city: 'Dubai', state: 'Dubai', country: 'AE', currency: 'USD' },
  { city: 'London', state: 'England', country: 'GB', currency: 'USD' },
];

export interface Product {
  category: string;
  name: string;
  unit: string;
  /** Unit price in INR paise (USD prices are derived). */
  unitPrice: number;
  quantity: [number, number];
}

export const PRODUCTS: readonly Product[] = [
  { category: 'Textiles', name: 'Combed cotton yarn 30s', unit: 'kg', unitPrice: 28_500, quantity: [500, 5_000] },
  { category: 'Textiles', name: 'Denim fabric 12 oz', unit: 'm', unitPrice: 21_000, quantity: [1_000, 10_000] },
  { category: 'Textiles', name: 'Knitted T-shirts, 180 GSM', unit: 'piece', unitPrice: 16_500, quantity: [300, 3_000] },
  { category: 'Steel', name: 'TMT bars Fe 500D, 12 mm', unit: 'tonne', unitPrice: 5_850_000, quantity: [5, 60] },
  { category: 'Steel', name: 'MS angle 50x50x5', unit: 'tonne', unitPrice: 6_100_000, quantity: [2, 30] },
  { category: 'Spices', name: 'Turmeric fingers, Salem', unit: 'kg', unitPrice: 14_200, quantity: [200, 4_000] },
  { category: 'Spices', name: 'Black pepper 550 GL', unit: 'kg', unitPrice: 62_000, quantity: [100, 2_000] },
  { category: 'Agri', name: '1121 basmati rice, steam', unit: 'kg', unitPrice: 9_800, quantity: [1_000, 20_000] },
  { category: 'Packaging', name: '5-ply corrugated boxes', unit: 'piece', unitPrice: 3_400, quantity: [1_000, 20_000] },
  { category: 'Packaging', name: 'PET jars 500 ml', unit: 'piece', unitPrice: 850, quantity: [5_000, 50_000] },
  { category: 'Electronics', name: 'LED panel light 18 W', unit: 'piece', unitPrice: 42_000, quantity: [100, 2_000] },
  { category: 'Chemicals', name: 'Caustic soda flakes', unit: 'kg', unitPrice: 4_900, quantity: [1_000, 15_000] },
];

export const COMPANY_WORDS = ['Shree', 'Global', 'Sai', 'Om', 'Royal', 'Apex', 'Everest', 'Sunrise', 'Coastal', 'Deccan', 'Indus', 'Lotus'] as const;
export const COMPANY_KINDS = ['Traders', 'Exports', 'Industries', 'Mills', 'Enterprises', 'Agro', 'Impex', 'Supply Co'] as const;
export const CARRIERS = ['Delhivery', 'Blue Dart', 'DTDC', 'Gati', 'Safexpress', 'DHL'] as const;

export const OPENERS = [
  'Hello, we are sourcing {product} for our next season. Can you share your best price?',
  'Hi! Saw your catalogue. Is {product} available for immediate dispatch?',
  'Good morning. We need {product} on a regular monthly schedule. Are you interested?',
  'Namaste, looking for {product}. What is your MOQ?',
] as const;

export const REPLIES = [
  'Yes, available. MOQ is {qty} {unit}.',
  'We can do {price} per {unit} ex-works, GST extra.',
  'Can you share the specs and the delivery location?',
  'Delivery to {city} in about {days} days from the order.',
  'Sharing the test certificate and photos shortly.',
  'Payment terms: 30% advance, rest before dispatch. Credit possible for regular buyers.',
  'That price is a bit high for us. Can you do better for a larger quantity?',
  'We have worked with buyers in {city} before, no problem with the logistics.',
  'Please confirm the packing: standard export packing is fine?',
  'Sounds good. I will discuss with my team and get back today.',
  'Can you send a sample first? We will pay the courier.',
  'Noted, thank you!',
  'Revised quote coming through the offer now.',
  'Quality is our priority, every lot is inspected before dispatch.',
] as const;

export const REJECT_REASONS = ['Price is above our budget', 'We found a closer supplier', 'Lead time too long', 'Project put on hold'] as const;
export const WITHDRAW_REASONS = ['Stock sold out', 'Raw material prices changed', 'Quoted in error'] as const;
export const CANCEL_REASONS = ['Buyer changed the specification', 'Could not arrange transport in time', 'Duplicate order'] as const;

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? key));
}
