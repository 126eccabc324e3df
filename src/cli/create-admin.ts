import 'dotenv/config';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { loadConfig } from '../config';
import { createLogger } from '../platform/logger';
import { connectMongo, syncIndexes } from '../platform/mongo';
import { createSuperAdminTool } from '../modules/auth';

const USAGE = `Usage: npm run create-admin -- --email <email> [--name <name>] [--role super_admin|admin] [--password-stdin]

Creates (or promotes and re-passwords) an account with an admin role. The password is read from
the ADMIN_PASSWORD variable, from stdin with --password-stdin, or asked for on the terminal.`;

/** Reads the password without echoing it when a terminal is attached. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  if (fromStdin || !process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += String(chunk);
    return data.replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const ask = (question: string) =>
    new Promise<string>((resolve) => {
      const output = rl as unknown as { _writeToOutput: (s: string) => void };
      const write = output._writeToOutput.bind(rl);
      output._writeToOutput = (s: string) => write(s.startsWith(question) ? s : '');
      rl.question(question, (answer) => {
        output._writeToOutput = write;
        process.stdout.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  rl.close();
  if (first !== second) throw new Error('The passwords do not match');
  return first;
}

async function run(): Promise<number> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      name: { type: 'string', default: 'Administrator' },
      role: { type: 'string', default: 'super_admin' },
      'password-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.email) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (values.role !== 'super_admin' && values.role !== 'admin') {
    process.stderr.write('--role must be super_admin or admin\n');
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger({ level: 'warn', json: false });
  const password = await readPassword(values['password-stdin'] ?? false);
  const mongo = await connectMongo(config.mongo, logger);
  try {
    const tool = createSuperAdminTool(mongo, config, () => new Date(), logger);
    await syncIndexes(mongo);
    const result = await tool.create({ email: values.email, name: values.name ?? 'Administrator', role: values.role, password });
    process.stdout.write(`${result.created ? 'Created' : 'Updated'} ${values.role} ${result.email} (id ${result.id})\n`);
    return 0;
  } finally {
    await mongo.close();
  }
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`create-admin failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
