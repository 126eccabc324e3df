/**
 * BullMQ refuses custom job ids that contain ':' (they collide with its repeat ids) or that read
 * as integers (they collide with its own counter ids). Business keys are things like
 * `payment:pay_123`, so they are escaped reversibly: '%' → %25, ':' → %3A, and an all-digit key
 * gets a %23 marker ('%23' never comes out of the escaping itself).
 */
export function encodeJobId(key: string): string {
  if (!key) throw new Error('A job key must not be empty');
  if (`${parseInt(key, 10)}` === key) return `%23${key}`;
  return key.replace(/%/g, '%25').replace(/:/g, '%3A');
}

export function decodeJobId(id: string): string {
  if (id.startsWith('%23')) return id.slice(3);
  return id.replace(/%3A/g, ':').replace(/%25/g, '%');
}

const QUEUE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

export function assertQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) throw new Error(`Invalid queue or schedule name "${name}": letters, digits, '.', '_' and '-' only`);
}
