/** Test configuration on top of the service URLs; cheap bcrypt so suites stay fast. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    MONGODB_URI: process.env.MONGODB_URI,
    POSTGRES_URL: process.env.POSTGRES_URL,
    REDIS_URL: process.env.REDIS_URL,
    STRIPE_MOCK_URL: process.env.STRIPE_MOCK_URL,
    MAILPIT_SMTP_URL: process.env.MAILPIT_SMTP_URL,
    MAILPIT_API_URL: process.env.MAILPIT_API_URL,
    JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
    BCRYPT_COST: '4',
    MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  };
}
