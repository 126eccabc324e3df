import Stripe from 'stripe';
import { loadConfig, type Config } from '../../config';
import type { Env } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { openConnections } from '../../platform/connections';
import { createAppContext, type AppContext } from '../../platform/context';
import { createServer, type RunningServer } from '../../server';
import { createSuperAdminTool } from '../../modules/auth';
import type { AnalyticsModule } from '../../modules/analytics';
import { createClient, mapLimit, SeedHttpError, sleep, type Actor, type SeedClient } from './http';
import { createRandom, type Random } from './random';
import * as cat from './catalogue';

/** Dev-only credentials of the demo accounts (README, "Seeding a development database"). */
export const DEMO = {
  superAdmin: { email: 'admin@seed.trade.local', password: 'Seed-admin-2026', name: 'Asha Admin' },
  admin: { email: 'ops@seed.trade.local', password: 'Seed-ops-2026', name: 'Omar Operations' },
  vendor: { email: 'vendor@seed.trade.local', password: 'Seed-vendor-2026', name: 'Vijay Vendor' },
  buyer: { email: 'buyer@seed.trade.local', password: 'Seed-buyer-2026', name: 'Bina Buyer' },
} as const;
/** Every other seeded account signs in with this password. */
export const SEED_USER_PASSWORD = 'Seed-user-2026';
/** The Stripe webhook secret the seed's own process verifies its locally signed events with. */
const SEED_STRIPE_WEBHOOK_SECRET = 'whsec_seed_local_only';
const SEED_STRIPE_KEY = 'sk_test_seed';

export interface SeedOptions {
  /** People besides the demo accounts (about 30% vendors, the rest buyers). */
  users: number;
  conversations: number;
  /** Messages per conversation. */
  messages: number;
  /** Negotiations (offers), spread over the direct conversations. */
  offers: number;
  seed: number;
  /** Add another batch to an already seeded database (new accounts with a per-run suffix). */
  again: boolean;
  /** Run with NODE_ENV=production. */
  force: boolean;
  /** Payments through stripe-mock (STRIPE_MOCK_URL, default the local one); off, or skipped when it is not reachable. */
  payments: boolean;
  stripeMockUrl: string;
  concurrency: number;
  /** bcrypt cost of the seeded accounts (development only; production keeps BCRYPT_COST). */
  bcryptCost: number;
  logLevel: string;
  out: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<SeedOptions, 'out'> = {
  users: 20,
  conversations: 20,
  messages: 5,
  offers: 18,
  seed: 42,
  again: false,
  force: false,
  payments: true,
  stripeMockUrl: 'http://127.0.0.1:12111',
  concurrency: 4,
  bcryptCost: 10,
  logLevel: 'warn',
};

type OfferOutcome = 'open' | 'countered' | 'accepted' | 'rejected' | 'withdrawn' | 'expired';
type OrderOutcome = 'placed' | 'confirmed' | 'shipped' | 'delivered' | 'completed' | 'cancelled';
const OFFER_CYCLE: readonly OfferOutcome[] = ['accepted', 'open', 'accepted', 'countered', 'accepted', 'rejected', 'accepted', 'withdrawn', 'accepted', 'expired', 'accepted', 'countered'];
const ORDER_CYCLE: readonly OrderOutcome[] = ['completed', 'placed', 'shipped', 'cancelled', 'delivered', 'confirmed', 'completed', 'delivered', 'shipped', 'completed'];

export interface SeedSummary {
  alreadySeeded: boolean;
  tag: string;
  users: Record<'user' | 'vendor' | 'admin' | 'super_admin', number>;
  suspended: number;
  follows: number;
  conversations: { direct: number; group: number };
  messages: number;
  offers: Record<OfferOutcome, number>;
  orders: Record<OrderOutcome, number>;
  creditLines: number;
  frozenLines: number;
  payments: { succeeded: number; failed: number; pending: number; refunds: number; skipped: string | null };
  campaigns: number;
  notificationsRead: number;
  analytics: { enabled: boolean; flushed: boolean; rolledUp: string | null };
  requests: number;
  seconds: number;
  demo: typeof DEMO;
}

export class SeedRefused extends Error {}

interface OfferView {
  id: string;
  version: number;
  status: string;
  turn: string | null;
  orderId: string | null;
  expiresAt: string;
  buyerId: string;
  vendorId: string;
  total: { amount: number; currency: string };
}
interface OrderView {
  id: string;
  version: number;
  status: string;
  buyerId: string;
  vendorId: string;
  total: { amount: number; currency: string };
  payment: { kind: 'prepaid' | 'credit' };
}
interface PaymentView {
  id: string;
  status: string;
  amount: { amount: number; currency: string };
  checkout: { paymentIntentId?: string } | null;
}
interface Data<T> {
  data: T;
}
interface AuthAnswer {
  data: { user: { id: string; email: string; name: string; role: string }; accessToken: string };
}

interface Conversation {
  id: string;
  type: 'direct' | 'group';
  members: Actor[];
  buyer: Actor;
  vendor: Actor;
  product: cat.Product;
  place: cat.Place;
}

async function stripeMockReachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/v1/balance`, { headers: { authorization: `Bearer ${SEED_STRIPE_KEY}` }, signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

function money(minor: number, currency: string): string {
  return `${currency} ${(minor / 100).toLocaleString('en-IN', { maximumFractionDigits: 2 })}`;
}

/**
 * Composes the real app (the same createServer as main.ts, with the configured MONGODB_URI,
 * POSTGRES_URL and REDIS_URL), serves it on a loopback port of its own and fills it through the
 * public API, as the apps, the dashboard and the providers would: every invariant, domain event,
 * notification and analytics row is the real one. Returns what it made.
 */
export async function runSeed(options: SeedOptions, baseEnv: Env = process.env): Promise<SeedSummary> {
  const started = Date.now();
  const out = options.out;
  const production = (baseEnv.NODE_ENV ?? 'development') === 'production';
  if (production && !options.force) throw new SeedRefused('NODE_ENV is production: the seed fills a development database. Pass --force to run it anyway.');

  let payments = options.payments;
  let paymentsSkipped: string | null = payments ? null : 'turned off (--no-payments)';
  if (payments && !(await stripeMockReachable(options.stripeMockUrl))) {
    payments = false;
    paymentsSkipped = `stripe-mock is not reachable at ${options.stripeMockUrl} (./scripts/services.sh up starts it)`;
  }
  const env: Env = {
    ...baseEnv,
    // Each seeded person calls from an address of their own, so the per-IP budgets are theirs and
    // the developer's own 127.0.0.1 budget is left alone.
    TRUST_PROXY: '1',
    LOG_LEVEL: options.logLevel,
    ...(production ? {} : { BCRYPT_COST: String(options.bcryptCost) }),
    // Payments: stripe-mock stands in for Stripe's API, and the seed signs the webhook events itself.
    ...(payments ? { STRIPE_SECRET_KEY: SEED_STRIPE_KEY, STRIPE_API_URL: options.stripeMockUrl, STRIPE_WEBHOOK_SECRET: SEED_STRIPE_WEBHOOK_SECRET } : {}),
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, json: config.nodeEnv === 'production' });
  const connections = await openConnections(config, logger);
  const ctx = createAppContext(config, logger, connections);
  let server: RunningServer;
  try {
    server = await createServer(ctx, connections);
  } catch (err) {
    await connections.mongo.close().catch(() => undefined);
    throw err;
  }
  try {
    const port = await server.listen(0, '127.0.0.1');
    const stats = { requests: 0, retried429: 0 };
    const http = createClient(`http://127.0.0.1:${port}`, stats);
    const seeder = createSeeder({ http, random: createRandom(options.seed), options, out, payments, config, ctx });
    const summary = await seeder.run();
    summary.payments.skipped = paymentsSkipped;
    const analytics = server.modules.find((m) => m.name === 'analytics') as AnalyticsModule | undefined;
    // The dashboard reads PostgreSQL: write what is buffered and compute today's rollup now, rather than on the next tick.
    let flushed = false;
    let rolledUp: string | null = null;
    if (analytics?.enabled) {
      await ctx.events.drain();
      flushed = await analytics.flush();
      if (analytics.rollups) {
        rolledUp = new Date().toISOString().slice(0, 10);
        await analytics.rollups.rollupDay(rolledUp);
      }
    }
    return {
      ...summary,
      analytics: { enabled: analytics?.enabled ?? false, flushed, rolledUp },
      requests: stats.requests,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    // Stops like SIGTERM does: in-flight work finishes, the analytics writer flushes, connections close.
    await server.close();
  }
}

interface SeederDeps {
  http: SeedClient;
  random: Random;
  options: SeedOptions;
  out: (line: string) => void;
  payments: boolean;
  config: Config;
  ctx: AppContext<Config>;
}

function createSeeder(deps: SeederDeps) {
  const { http, random, options, out, config, ctx } = deps;
  let ipCounter = 0;
  const nextIp = () => {
    ipCounter += 1;
    return `10.77.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
  };
  const summary: Omit<SeedSummary, 'analytics' | 'requests' | 'seconds'> = {
    alreadySeeded: false,
    tag: '',
    users: { user: 0, vendor: 0, admin: 0, super_admin: 0 },
    suspended: 0,
    follows: 0,
    conversations: { direct: 0, group: 0 },
    messages: 0,
    offers: { open: 0, countered: 0, accepted: 0, rejected: 0, withdrawn: 0, expired: 0 },
    orders: { placed: 0, confirmed: 0, shipped: 0, delivered: 0, completed: 0, cancelled: 0 },
    creditLines: 0,
    frozenLines: 0,
    payments: { succeeded: 0, failed: 0, pending: 0, refunds: 0, skipped: null },
    campaigns: 0,
    notificationsRead: 0,
    demo: DEMO,
  };

  const actorOf = (answer: AuthAnswer, ip: string): Actor => ({
    id: answer.data.user.id,
    email: answer.data.user.email,
    name: answer.data.user.name,
    role: answer.data.user.role,
    accessToken: answer.data.accessToken,
    ip,
  });

  async function login(email: string, password: string, ip: string): Promise<Actor> {
    const res = await http.post<AuthAnswer>('/api/auth/login', { body: { email, password, deviceName: 'seed' }, ip });
    return actorOf(res.body, ip);
  }

  /** Registers through /api/auth/register; an existing account (an earlier run) is signed in instead. */
  async function ensureAccount(input: { email: string; password: string; name: string; vendor?: boolean; phone?: string }): Promise<{ actor: Actor; created: boolean }> {
    const ip = nextIp();
    const res = await http.post<AuthAnswer>('/api/auth/register', {
      body: { email: input.email, password: input.password, name: input.name, deviceName: 'seed', ...(input.vendor ? { role: 'vendor' } : {}), ...(input.phone ? { phone: input.phone } : {}) },
      ip,
      accept: [201, 409],
    });
    if (res.status === 201) return { actor: actorOf(res.body, ip), created: true };
    return { actor: await login(input.email, input.password, ip), created: false };
  }

  const phone = () => `+9198${String(random.int(10_000_000, 99_999_999))}`;
  const personName = () => `${random.pick(cat.FIRST_NAMES)} ${random.pick(cat.LAST_NAMES)}`;
  const companyName = (name: string) => `${random.pick(cat.COMPANY_WORDS)} ${name.split(' ')[1] ?? name} ${random.pick(cat.COMPANY_KINDS)}`;

  async function describeBusiness(actor: Actor, vendor: boolean, place: cat.Place, categories: string[]) {
    await http.patch('/api/auth/me', {
      as: actor,
      body: {
        business: {
          companyName: companyName(actor.name),
          description: vendor ? `Manufacturer and supplier of ${categories.join(', ').toLowerCase()}.` : `Buying ${categories.join(', ').toLowerCase()} for our units.`,
          categories,
          address: { line1: `${random.int(1, 250)} Industrial Area`, city: place.city, state: place.state, country: place.country },
        },
      },
    });
  }

  // ---- accounts ------------------------------------------------------------------------------
  async function accounts(tag: string, firstRun: boolean) {
    const categories = [...new Set(cat.PRODUCTS.map((p) => p.category))];
    // Demo accounts first; the super admin is promoted by the create-admin tool (auth's contract), as `npm run create-admin` does.
    const superAdminAccount = await ensureAccount(DEMO.superAdmin);
    const tool = createSuperAdminTool(ctx.mongo, config, ctx.clock, ctx.logger);
    await tool.create({ email: DEMO.superAdmin.email, name: DEMO.superAdmin.name, role: 'super_admin', password: DEMO.superAdmin.password });
    const superAdmin = await login(DEMO.superAdmin.email, DEMO.superAdmin.password, superAdminAccount.actor.ip);
    const opsAccount = await ensureAccount(DEMO.admin);
    if (opsAccount.actor.role !== 'admin') {
      await http.patch(`/api/admin/users/${opsAccount.actor.id}/role`, { as: superAdmin, body: { role: 'admin', reason: 'Seed: operations team member' } });
    }
    const ops = await login(DEMO.admin.email, DEMO.admin.password, opsAccount.actor.ip);
    const demoVendorAccount = await ensureAccount({ ...DEMO.vendor, vendor: true, phone: '+919800000001' });
    const demoBuyerAccount = await ensureAccount({ ...DEMO.buyer, phone: '+919800000002' });
    const demoVendor = demoVendorAccount.actor;
    const demoBuyer = demoBuyerAccount.actor;
    await describeBusiness(demoVendor, true, cat.PLACES[0]!, ['Textiles', 'Packaging']);
    await describeBusiness(demoBuyer, false, cat.PLACES[3]!, ['Textiles', 'Spices']);

    const vendorCount = Math.max(1, Math.round(options.users * 0.3));
    const specs = Array.from({ length: options.users }, (_, i) => {
      const vendor = i < vendorCount;
      const name = personName();
      const slug = name.toLowerCase().replace(/[^a-z]+/g, '.');
      return {
        vendor,
        name,
        email: `${slug}.${String(i + 1).padStart(3, '0')}${tag}@seed.trade.local`,
        place: random.pick(cat.PLACES),
        categories: random.sample(categories, random.int(1, 3)),
        phone: random.chance(0.7) ? phone() : undefined,
        profile: vendor || random.chance(0.6),
      };
    });
    const people = await mapLimit(specs, options.concurrency, async (spec) => {
      const { actor, created } = await ensureAccount({ email: spec.email, password: SEED_USER_PASSWORD, name: spec.name, vendor: spec.vendor, phone: spec.phone });
      if (spec.profile) await describeBusiness(actor, spec.vendor, spec.place, spec.categories);
      return { actor, place: spec.place, vendor: spec.vendor, created };
    });
    const vendors = [demoVendor, ...people.filter((p) => p.vendor).map((p) => p.actor)];
    const buyers = [demoBuyer, ...people.filter((p) => !p.vendor).map((p) => p.actor)];
    const placeOf = new Map<string, cat.Place>(people.map((p) => [p.actor.id, p.place]));
    placeOf.set(demoVendor.id, cat.PLACES[0]!);
    placeOf.set(demoBuyer.id, cat.PLACES[3]!);
    // What this run created (an --again run signs the demo accounts in instead).
    summary.users.vendor += people.filter((p) => p.vendor && p.created).length + (demoVendorAccount.created ? 1 : 0);
    summary.users.user += people.filter((p) => !p.vendor && p.created).length + (demoBuyerAccount.created ? 1 : 0);
    summary.users.admin += opsAccount.created ? 1 : 0;
    summary.users.super_admin += firstRun ? 1 : 0;
    out(`  accounts: ${summary.users.user} buyers, ${summary.users.vendor} vendors, ${summary.users.admin} admin, ${summary.users.super_admin} super admin created`);

    // Buyers follow a few vendors.
    const followPairs = buyers.flatMap((buyer) => random.sample(vendors, random.int(0, 3)).map((vendor) => ({ buyer, vendor })));
    await mapLimit(followPairs, options.concurrency, async ({ buyer, vendor }) => {
      await http.post(`/api/users/${vendor.id}/follow`, { as: buyer, accept: [200, 201, 204, 409] });
      summary.follows += 1;
    });
    return { superAdmin, ops, demoVendor, demoBuyer, vendors, buyers, placeOf };
  }

  // ---- conversations and messages --------------------------------------------------------------
  async function conversations(world: Awaited<ReturnType<typeof accounts>>, tag: string): Promise<Conversation[]> {
    const { vendors, buyers, demoBuyer, demoVendor } = world;
    const specs: Array<{ type: 'direct' | 'group'; buyer: Actor; vendors: Actor[] }> = [];
    const seen = new Set<string>();
    const addDirect = (buyer: Actor, vendor: Actor) => {
      const key = `${buyer.id}:${vendor.id}`;
      if (seen.has(key) || specs.length >= options.conversations) return;
      seen.add(key);
      specs.push({ type: 'direct', buyer, vendors: [vendor] });
    };
    // The demo accounts get a busy inbox: each other, and several counterparties each.
    addDirect(demoBuyer, demoVendor);
    for (const vendor of random.sample(vendors.slice(1), Math.min(5, Math.ceil(options.conversations / 6)))) addDirect(demoBuyer, vendor);
    for (const buyer of random.sample(buyers.slice(1), Math.min(5, Math.ceil(options.conversations / 6)))) addDirect(buyer, demoVendor);
    const capacity = buyers.length * vendors.length;
    for (let attempts = 0; specs.length < options.conversations && attempts < options.conversations * 20; attempts += 1) {
      if (vendors.length >= 3 && random.chance(0.1)) {
        specs.push({ type: 'group', buyer: random.pick(buyers), vendors: random.sample(vendors, random.int(2, 3)) });
      } else if (seen.size < capacity) {
        addDirect(random.pick(buyers), random.pick(vendors));
      } else if (vendors.length >= 2) {
        specs.push({ type: 'group', buyer: random.pick(buyers), vendors: random.sample(vendors, Math.min(3, vendors.length)) });
      }
    }
    const plans = specs.map((spec) => ({
      ...spec,
      product: random.pick(cat.PRODUCTS),
      place: world.placeOf.get(spec.buyer.id) ?? random.pick(cat.PLACES),
      script: Array.from({ length: options.messages }, (_, i) => ({ fromBuyer: i === 0 ? true : random.chance(0.5), template: i === 0 ? random.pick(cat.OPENERS) : random.pick(cat.REPLIES) })),
      read: random.chance(0.7),
    }));
    const made = await mapLimit(plans, options.concurrency, async (plan, index): Promise<Conversation> => {
      const body = plan.type === 'direct'
        ? { type: 'direct', participantIds: [plan.vendors[0]!.id] }
        : { type: 'group', participantIds: plan.vendors.map((v) => v.id), title: `RFQ: ${plan.product.name}`.slice(0, 120) };
      const res = await http.post<Data<{ id: string }>>('/api/chat/conversations', { as: plan.buyer, body, accept: [200, 201] });
      const id = res.body.data.id;
      summary.conversations[plan.type] += 1;
      const members = [plan.buyer, ...plan.vendors];
      let lastSeq = 0;
      for (const [i, line] of plan.script.entries()) {
        const sender = line.fromBuyer ? plan.buyer : plan.vendors[i % plan.vendors.length]!;
        const text = cat.fill(line.template, {
          product: plan.product.name.toLowerCase(),
          qty: plan.product.quantity[0],
          unit: plan.product.unit,
          price: money(plan.product.unitPrice, 'INR'),
          city: plan.place.city,
          days: 7 + (i % 3) * 7,
        });
        const sent = await http.post<Data<{ seq: number }>>(`/api/chat/conversations/${id}/messages`, { as: sender, body: { clientMessageId: `seed${tag}-c${index}-m${i}`, text }, accept: [200, 201] });
        lastSeq = sent.body.data.seq;
        summary.messages += 1;
      }
      if (plan.read && lastSeq > 0) {
        for (const member of members) await http.post(`/api/chat/conversations/${id}/read`, { as: member, body: { seq: lastSeq } });
      }
      return { id, type: plan.type, members, buyer: plan.buyer, vendor: plan.vendors[0]!, product: plan.product, place: plan.place };
    });
    out(`  conversations: ${summary.conversations.direct} direct, ${summary.conversations.group} groups, ${summary.messages} messages`);
    return made;
  }

  // ---- negotiations and orders -------------------------------------------------------------------
  const creditLines = new Map<string, number>();
  async function ensureCreditLine(admin: Actor, buyer: Actor, vendor: Actor, currency: string, atLeast: number): Promise<string> {
    const key = `${buyer.id}:${vendor.id}:${currency}`;
    const current = creditLines.get(key) ?? 0;
    if (current < atLeast) {
      const limit = Math.ceil((atLeast * 1.5) / 100_000) * 100_000;
      await http.put('/api/admin/finance/credit-lines', { as: admin, body: { buyerId: buyer.id, vendorId: vendor.id, currency, limit, creditDays: random.pick([15, 30, 45, 60]), reason: 'Seed: credit terms agreed with a regular buyer' } });
      if (!creditLines.has(key)) summary.creditLines += 1;
      creditLines.set(key, limit);
    }
    return `line:${buyer.id}:${vendor.id}:${currency}`;
  }

  function priced(product: cat.Product, currency: string, quantity: number, factor: number) {
    const base = currency === 'INR' ? product.unitPrice : Math.max(1, Math.round(product.unitPrice / 83));
    return [{ name: product.name, quantity, unit: product.unit, unitPrice: Math.max(1, Math.round(base * factor)) }];
  }

  async function respond(actor: Actor, offer: OfferView, action: 'counter' | 'accept' | 'reject' | 'withdraw', extra: Record<string, unknown> = {}): Promise<OfferView> {
    const res = await http.post<Data<OfferView>>(`/api/offers/${offer.id}/${action}`, { as: actor, body: { version: offer.version, ...extra } });
    return res.body.data;
  }

  interface Deal {
    order: OrderView;
    buyer: Actor;
    vendor: Actor;
    outcome: OrderOutcome;
  }

  async function negotiations(world: Awaited<ReturnType<typeof accounts>>, convs: Conversation[], tag: string) {
    const direct = convs.filter((c) => c.type === 'direct');
    if (!direct.length) return { deals: [] as Deal[], expiring: [] as Array<{ offer: OfferView; buyer: Actor }> };
    // Outcomes are dealt from fixed cycles (then shuffled), so that even a small run has every state:
    // 12 offers give every offer state and six orders, one in each order state.
    let accepted = 0;
    const plans = random.sample(Array.from({ length: options.offers }, (_, i) => i), options.offers).map((slot, i) => {
      const conv = i < direct.length ? direct[i]! : random.pick(direct);
      const currency = conv.place.currency === 'INR' ? 'INR' : 'USD';
      const outcome = OFFER_CYCLE[slot % OFFER_CYCLE.length]!;
      const orderOutcome = ORDER_CYCLE[(outcome === 'accepted' ? accepted++ : 0) % ORDER_CYCLE.length]!;
      return {
        conv,
        currency,
        outcome,
        credit: random.chance(0.4),
        vendorProposes: random.chance(0.6),
        counters: outcome === 'countered' ? random.int(1, 3) : outcome === 'open' || outcome === 'expired' ? 0 : random.int(0, 2),
        quantity: random.int(conv.product.quantity[0], conv.product.quantity[1]),
        orderOutcome,
        expiresInHours: random.int(24, 240),
        factors: Array.from({ length: 4 }, () => 0.9 + random.next() * 0.08),
        leadTimeDays: random.pick([7, 10, 15, 21, 30]),
        reason: random.pick(cat.REJECT_REASONS),
        withdrawReason: random.pick(cat.WITHDRAW_REASONS),
        cancelReason: random.pick(cat.CANCEL_REASONS),
        cancelByAdmin: random.chance(0.3),
        carrier: random.pick(cat.CARRIERS),
      };
    });
    const deals: Deal[] = [];
    const expiring: Array<{ offer: OfferView; buyer: Actor }> = [];
    await mapLimit(plans, options.concurrency, async (plan, index) => {
      const { conv } = plan;
      const { buyer, vendor } = conv;
      const proposer = plan.vendorProposes ? vendor : buyer;
      let factor = 1.08;
      const items = priced(conv.product, plan.currency, plan.quantity, factor);
      const total = items[0]!.quantity * items[0]!.unitPrice;
      if (plan.credit) await ensureCreditLine(world.ops, buyer, vendor, plan.currency, total);
      const created = await http.post<Data<OfferView>>('/api/offers', {
        as: proposer,
        headers: { 'idempotency-key': `seed${tag}-offer-${index}` },
        body: {
          conversationId: conv.id,
          buyerId: buyer.id,
          vendorId: vendor.id,
          currency: plan.currency,
          items,
          delivery: { place: `${conv.place.city}, ${conv.place.country}`, leadTimeDays: plan.leadTimeDays, incoterm: conv.place.country === 'IN' ? 'FOR destination' : 'CIF' },
          payment: plan.credit ? { kind: 'credit', creditDays: 30 } : { kind: 'prepaid' },
          notes: 'Prices include standard packing.',
          // An offer meant to expire gets a short life; the rest the usual days.
          expiresAt: new Date(Date.now() + (plan.outcome === 'expired' ? 10_000 : plan.expiresInHours * 3_600_000)).toISOString(),
        },
        accept: [200, 201],
      });
      let offer = created.body.data;
      if (plan.outcome === 'expired') {
        expiring.push({ offer, buyer });
        return;
      }
      for (let round = 0; round < plan.counters; round += 1) {
        const actor = offer.turn === buyer.id ? buyer : vendor;
        factor = actor === buyer ? factor * plan.factors[round % 4]! : (factor + 1) / 2;
        offer = await respond(actor, offer, 'counter', { items: priced(conv.product, plan.currency, plan.quantity, factor) });
      }
      const onTurn = offer.turn === buyer.id ? buyer : vendor;
      const proposed = onTurn === buyer ? vendor : buyer;
      if (plan.outcome === 'open' || plan.outcome === 'countered') {
        summary.offers[plan.outcome] += 1;
        return;
      }
      if (plan.outcome === 'rejected') offer = await respond(onTurn, offer, 'reject', { reason: plan.reason });
      else if (plan.outcome === 'withdrawn') offer = await respond(proposed, offer, 'withdraw', { reason: plan.withdrawReason });
      else {
        if (plan.credit) await ensureCreditLine(world.ops, buyer, vendor, plan.currency, offer.total.amount);
        offer = await respond(onTurn, offer, 'accept');
      }
      summary.offers[plan.outcome] += 1;
      if (plan.outcome !== 'accepted' || !offer.orderId) return;
      let order: OrderView | null = null;
      for (let attempt = 0; attempt < 20 && !order; attempt += 1) {
        const res = await http.get<Data<OrderView>>(`/api/offers/orders/${offer.orderId}`, { as: buyer, accept: [200, 404] });
        if (res.status === 200) order = res.body.data;
        else await sleep(200);
      }
      if (!order) throw new Error(`order ${offer.orderId} of offer ${offer.id} did not appear`);
      order = await advanceOrder(world, order, buyer, vendor, plan);
      summary.orders[order.status as OrderOutcome] += 1;
      deals.push({ order, buyer, vendor, outcome: plan.orderOutcome });
    });
    out(`  offers: ${Object.entries(summary.offers).map(([k, v]) => `${v} ${k}`).join(', ')} (expiring ones are stored as expired at the end)`);
    return { deals, expiring };
  }

  async function advanceOrder(
    world: Awaited<ReturnType<typeof accounts>>,
    start: OrderView,
    buyer: Actor,
    vendor: Actor,
    plan: { orderOutcome: OrderOutcome; cancelReason: string; cancelByAdmin: boolean; carrier: string },
  ): Promise<OrderView> {
    let order = start;
    const step = async (actor: Actor, action: string, extra: Record<string, unknown> = {}) => {
      order = (await http.post<Data<OrderView>>(`/api/offers/orders/${order.id}/${action}`, { as: actor, body: { version: order.version, ...extra } })).body.data;
    };
    const path: OrderOutcome[] = ['placed', 'confirmed', 'shipped', 'delivered', 'completed'];
    if (plan.orderOutcome === 'cancelled') {
      if (plan.cancelByAdmin) {
        order = (await http.post<Data<OrderView>>(`/api/admin/orders/${order.id}/cancel`, { as: world.ops, body: { reason: `Seed: ${plan.cancelReason}` } })).body.data;
      } else {
        if (random.chance(0.5)) await step(vendor, 'confirm');
        await step(random.chance(0.5) ? buyer : vendor, 'cancel', { reason: plan.cancelReason });
      }
      return order;
    }
    const target = path.indexOf(plan.orderOutcome);
    if (target >= 1) await step(vendor, 'confirm');
    if (target >= 2) await step(vendor, 'ship', { carrier: plan.carrier, trackingNumber: `${plan.carrier.slice(0, 3).toUpperCase()}${random.int(100_000_000, 999_999_999)}` });
    if (target >= 3) await step(vendor, 'deliver');
    if (target >= 4) await step(buyer, 'complete');
    return order;
  }

  // ---- payments (stripe-mock for Stripe's API, events signed here and sent through the inbox) -----
  let eventSeq = 0;
  async function settle(payment: PaymentView, outcome: 'succeeded' | 'failed', buyer: Actor, tag: string): Promise<string> {
    eventSeq += 1;
    const type = outcome === 'succeeded' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed';
    const intent = {
      id: payment.checkout?.paymentIntentId ?? 'pi_unknown',
      object: 'payment_intent',
      amount: payment.amount.amount,
      amount_received: outcome === 'succeeded' ? payment.amount.amount : 0,
      currency: payment.amount.currency.toLowerCase(),
      metadata: { paymentId: payment.id },
      ...(outcome === 'failed' ? { last_payment_error: { message: 'Your card was declined.', code: 'card_declined' } } : {}),
    };
    const body = JSON.stringify({ id: `evt_seed${tag}_${Date.now().toString(36)}_${eventSeq}`, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object: intent } });
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SEED_STRIPE_WEBHOOK_SECRET });
    await http.post('/api/webhooks/stripe', { raw: body, headers: { 'stripe-signature': signature }, ip: '10.99.0.1' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const status = (await http.get<Data<PaymentView>>(`/api/finance/payments/${payment.id}`, { as: buyer })).body.data.status;
      if (status === 'succeeded' || status === 'failed') return status;
      await sleep(150);
    }
    return 'processing';
  }

  async function paymentsPhase(deals: Deal[], tag: string) {
    const prepaid = deals.filter((d) => d.order.payment.kind === 'prepaid' && ['confirmed', 'shipped', 'delivered', 'completed'].includes(d.order.status));
    const succeeded: Array<{ payment: PaymentView; vendor: Actor }> = [];
    const plans = prepaid.map((deal) => ({ deal, pay: random.chance(0.85), outcome: random.chance(0.88) ? ('succeeded' as const) : ('failed' as const) }));
    await mapLimit(plans, options.concurrency, async ({ deal, pay, outcome }) => {
      if (!pay) return;
      const res = await http.post<Data<PaymentView>>('/api/finance/payments', { as: deal.buyer, headers: { 'idempotency-key': `seed${tag}-pay-${deal.order.id}` }, body: { provider: 'stripe', orderId: deal.order.id }, accept: [200, 201] });
      const status = await settle(res.body.data, outcome, deal.buyer, tag);
      if (status === 'succeeded') {
        summary.payments.succeeded += 1;
        succeeded.push({ payment: res.body.data, vendor: deal.vendor });
      } else if (status === 'failed') summary.payments.failed += 1;
      else summary.payments.pending += 1;
    });
    // Credit orders: once delivered, finance posts the hold as a charge (a durable job); some buyers then pay the line.
    const lines = new Map<string, Deal>();
    for (const deal of deals) {
      if (deal.order.payment.kind === 'credit' && (deal.order.status === 'delivered' || deal.order.status === 'completed')) {
        lines.set(`${deal.buyer.id}:${deal.vendor.id}:${deal.order.total.currency}`, deal);
      }
    }
    const linePlans = [...lines.values()].map((deal) => ({ deal, pay: random.chance(0.6) }));
    await mapLimit(linePlans, options.concurrency, async ({ deal, pay }) => {
      if (!pay) return;
      for (let attempt = 0; attempt < 60; attempt += 1) {
        const res = await http.post<Data<PaymentView>>('/api/finance/payments', {
          as: deal.buyer,
          headers: { 'idempotency-key': `seed${tag}-line-${deal.buyer.id}-${deal.vendor.id}-${attempt}` },
          body: { provider: 'stripe', vendorId: deal.vendor.id, currency: deal.order.total.currency },
          accept: [200, 201, 400],
        });
        if (res.status === 400) {
          // Nothing outstanding yet: the delivery's charge is still on its way through finance's job.
          await sleep(250);
          continue;
        }
        const status = await settle(res.body.data, 'succeeded', deal.buyer, tag);
        if (status === 'succeeded') summary.payments.succeeded += 1;
        else summary.payments.pending += 1;
        return;
      }
    });
    // A few vendors refund part of a payment (stripe-mock answers the refund).
    for (const { payment, vendor } of random.sample(succeeded, Math.ceil(succeeded.length / 6))) {
      const amount = Math.max(1, Math.floor(payment.amount.amount * random.pick([0.1, 0.2, 0.25, 0.5])));
      await http.post(`/api/finance/payments/${payment.id}/refunds`, { as: vendor, headers: { 'idempotency-key': `seed${tag}-refund-${payment.id}` }, body: { amount, reason: 'Short shipment: part of the lot returned' }, accept: [200, 201] });
      summary.payments.refunds += 1;
    }
    out(`  payments: ${summary.payments.succeeded} succeeded, ${summary.payments.failed} failed, ${summary.payments.refunds} refunds`);
  }

  // ---- admin oversight, notifications, expiries ------------------------------------------------------
  async function oversight(world: Awaited<ReturnType<typeof accounts>>) {
    const lineIds = [...creditLines.keys()].map((key) => `line:${key}`);
    for (const lineId of random.sample(lineIds, lineIds.length >= 2 ? 1 : 0)) {
      await http.post(`/api/admin/finance/credit-lines/${encodeURIComponent(lineId)}/freeze`, { as: world.ops, body: { reason: 'Seed: payment overdue, under review' } });
      summary.frozenLines += 1;
    }
    await http.post('/api/admin/notifications/campaigns', {
      as: world.ops,
      body: { title: 'Trade fair next month', body: 'Meet verified buyers and vendors at the Mumbai B2B expo. Register from the app.', segment: { roles: ['user', 'vendor'] } },
    });
    summary.campaigns += 1;
    // A few accounts are suspended (their activity stays); never the demo ones.
    const candidates = world.buyers.slice(1);
    for (const buyer of random.sample(candidates, Math.max(candidates.length >= 3 ? 1 : 0, Math.floor(candidates.length * 0.05)))) {
      await http.post(`/api/admin/users/${buyer.id}/suspend`, { as: world.ops, body: { reason: 'Seed: reported for spam messages' } });
      summary.suspended += 1;
    }
  }

  async function expire(expiring: Array<{ offer: OfferView; buyer: Actor }>) {
    if (!expiring.length) return;
    const last = Math.max(...expiring.map(({ offer }) => Date.parse(offer.expiresAt)));
    const wait = last - Date.now() + 100;
    if (wait > 0) await sleep(wait);
    // A read of an offer past its expiry stores it as expired (and tells both parties), as the sweep would.
    await mapLimit(expiring, options.concurrency, async ({ offer, buyer }) => {
      const res = await http.get<Data<OfferView>>(`/api/offers/${offer.id}`, { as: buyer });
      if (res.body.data.status === 'expired') summary.offers.expired += 1;
    });
  }

  /** Waits until the notification jobs the events started have run (the demo inboxes stop growing). */
  async function settleNotifications(watch: Actor[]) {
    let previous = '';
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const counts = await Promise.all(watch.map(async (a) => JSON.stringify((await http.get<Data<unknown>>('/api/notifications/unread-count', { as: a })).body.data)));
      const now = counts.join('|');
      if (now === previous) return;
      previous = now;
      await sleep(750);
    }
  }

  return {
    async run() {
      // The marker: the demo super admin exists once a database has been seeded.
      const probe = await http.post('/api/auth/register', { body: { email: DEMO.superAdmin.email, password: DEMO.superAdmin.password, name: DEMO.superAdmin.name }, ip: nextIp(), accept: [201, 409] });
      const seeded = probe.status === 409;
      if (seeded && !options.again) {
        summary.alreadySeeded = true;
        out('This database is already seeded (the demo admin exists); nothing was added. Run with --again to add another batch.');
        return summary;
      }
      const tag = seeded ? `.${Date.now().toString(36)}` : '';
      summary.tag = tag;
      out(seeded ? `Adding another batch (accounts suffixed "${tag}")` : 'Seeding a fresh database');
      const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
        const t0 = Date.now();
        const result = await work();
        out(`    (${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        return result;
      };
      const world = await phase('accounts', () => accounts(tag, !seeded));
      // Client message ids and idempotency keys allow letters, digits, _ : and - only.
      const keyTag = tag.replace(/[^A-Za-z0-9]/g, '');
      const convs = await phase('conversations', () => conversations(world, keyTag));
      const { deals, expiring } = await phase('negotiations', () => negotiations(world, convs, keyTag));
      if (deps.payments) await phase('payments', () => paymentsPhase(deals, keyTag));
      await phase('oversight', () => oversight(world));
      await phase('expiries', () => expire(expiring));
      await phase('notifications', () => settleNotifications([world.demoBuyer, world.demoVendor]));
      // About half the people catch up on their notifications.
      const readers = random.sample([...world.buyers, ...world.vendors], Math.ceil((world.buyers.length + world.vendors.length) / 2));
      await mapLimit(readers, options.concurrency, async (reader) => {
        const res = await http.post('/api/notifications/read-all', { as: reader, body: {}, accept: [200, 401, 403] });
        if (res.status === 200) summary.notificationsRead += 1;
      });
      return summary;
    },
  };
}

export { SeedHttpError };
