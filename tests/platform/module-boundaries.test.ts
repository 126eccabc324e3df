import { execFile } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const RULE = 'local/module-boundaries';

interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
}

/**
 * Lints `code` as if it were the file at `file` (relative to the repository), with the project's
 * own eslint.config.mjs, through the ESLint Node API. It runs in a child Node process because
 * ESLint loads its flat config with a dynamic import(), which jest's module sandbox refuses
 * without --experimental-vm-modules. lintText needs no file on disk, so the fixtures never
 * reach the tree (or another engineer's `npm run lint`).
 */
function lint(file: string, code: string): Promise<LintMessage[]> {
  const script = `
    import { ESLint } from 'eslint';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const { filePath, code } = JSON.parse(input);
    const eslint = new ESLint({ cwd: process.cwd() });
    const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
    process.stdout.write(JSON.stringify(result.messages));
  `;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root }, (err, stdout, stderr) => {
      if (err) reject(new Error(`eslint failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as LintMessage[]);
    });
    child.stdin?.end(JSON.stringify({ filePath: path.join(root, file), code }));
  });
}

const boundaryErrors = (messages: LintMessage[]) => messages.filter((m) => m.ruleId === RULE);

describe('module boundaries lint rule', () => {
  jest.setTimeout(60_000);

  it('reports a module importing another module’s internal file', async () => {
    const messages = await lint(
      'src/modules/chat/boundary-fixture.ts',
      [
        "import { createFollowService } from '../users/users.service';",
        "export type { UserDoc } from '../users/user.model';",
        "export * from '../../modules/uploads/uploads.types';",
        'export const followService = createFollowService;',
        '',
      ].join('\n'),
    );
    const errors = boundaryErrors(messages);
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(errors[0]?.message).toMatch(/internal file of module 'users'.*index\.ts/);
    expect(errors[2]?.message).toMatch(/module 'uploads'/);
  });

  it('accepts a module that imports others only through their index.ts, and its own files', async () => {
    const messages = await lint(
      'src/modules/chat/boundary-fixture.ts',
      [
        "import { createUsersModule } from '../users';",
        "import type { UploadsModule } from '../uploads/index';",
        "import { chatErrors } from './chat.errors';",
        "import { errors } from '../../platform/errors';",
        'export const used = [createUsersModule, chatErrors, errors] as const;',
        'export type Used = UploadsModule;',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('reports platform code that imports a module, even its index.ts', async () => {
    const messages = await lint(
      'src/platform/boundary-fixture.ts',
      ["import { createChatModule } from '../modules/chat';", 'export const chat = createChatModule;', ''].join('\n'),
    );
    const errors = boundaryErrors(messages);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/platform must not depend on business modules/);
  });

  it('lets the composition root import each module’s index.ts but not its internals', async () => {
    const messages = await lint(
      'src/modules/index.ts',
      [
        "import { createChatModule } from './chat';",
        "import { createChatServices } from './chat/chat.services';",
        'export const used = [createChatModule, createChatServices] as const;',
        '',
      ].join('\n'),
    );
    expect(boundaryErrors(messages).map((e) => e.line)).toEqual([2]);
  });
});
