import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigOrExit } from '../../libs/config/index.js';
import { TwindexError } from '../../libs/domain/errors.js';
import { ensureDatabase, runMigrations } from '../../libs/store/database-setup.js';
import { createAccount } from './account-create.js';
import { ExplainFailed, renderExplanation, requestExplanation, resolves } from './explain.js';
import { describeReport, ImportFailed, importFile } from './import-file.js';

/**
 * `twindex`: the operator's chores from a shell (docs/operations.md "Processes"). Account
 * creation and migrations go straight to the database of DATABASE_URL (environment or `.env`); imports go
 * through the HTTP API like any client. Secrets come from flags or the environment and are never echoed.
 */
const program = new Command('twindex')
  .description('Twindex command line: accounts, migrations, bulk imports and explaining resolutions')
  .showHelpAfterError();

/** Exit codes of `twindex import`. */
const EXIT = { ok: 0, failed: 1, skippedLines: 2 } as const;

async function migrate(): Promise<string[]> {
  const config = loadConfigOrExit();
  await ensureDatabase(config.DATABASE_URL);
  return runMigrations(config.DATABASE_URL);
}

const account = program.command('account').description('accounts (straight against DATABASE_URL)');
account
  .command('create')
  .description('create an account with its built-in roles and an admin user; prints the admin secret once')
  .argument('<name>', 'account name')
  .option('--uuid <uuid>', "the account's UUID (to mirror an upstream account); random by default")
  .option(
    '--secret-only',
    'print only the secret (for scripts: S=$(twindex account create acme --secret-only))',
  )
  .action(async (name: string, opts: { uuid?: string; secretOnly?: boolean }) => {
    await migrate();
    const config = loadConfigOrExit();
    const created = await createAccount(config.DATABASE_URL, { name, uuid: opts.uuid });
    if (opts.secretOnly) {
      process.stdout.write(`${created.secret}\n`);
      return;
    }
    process.stdout.write(
      `account ${created.account.name} ${created.account.uuid}\n` +
        `user    ${created.user.name} ${created.user.uuid} (role Admin)\n` +
        `secret  ${created.secret}\n` +
        'The secret is shown this once; keep it (e.g. export TWINDEX_SECRET=…).\n',
    );
  });

program
  .command('operator-key')
  .description('print how to set TWINDEX_OPERATOR_KEY (needed for POST /accounts over HTTP)')
  .action(() => {
    const key = randomBytes(32).toString('hex');
    process.stdout.write(
      'POST /accounts needs an operator key of at least 32 characters, set before the API starts:\n' +
        `  echo "TWINDEX_OPERATOR_KEY=${key}" >> .env     # a fresh random one, or choose your own\n` +
        '  npm start                                        # then: curl -XPOST …/accounts -H "Authorization: <key>"\n' +
        'Without it, account creation over HTTP answers 403; `twindex account create <name>` works either way.\n',
    );
  });

program
  .command('migrate')
  .description('create the database if missing and apply pending migrations')
  .action(async () => {
    const applied = await migrate();
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply\n');
  });

const parseFormat = (v: string): 'ndjson' | 'csv' => {
  if (v !== 'ndjson' && v !== 'csv') throw new InvalidArgumentError('ndjson or csv');
  return v;
};

program
  .command('import')
  .description(
    'stream a file to POST /imports, show the upload and merge, end with the counts and the first bad lines.\n' +
      'Exit code: 0 every line imported, 2 completed with skipped lines, 1 failed.',
  )
  .argument(
    '<file>',
    'NDJSON (one {"twin","identity","visibility"?,"validity_ts"?} per line) or CSV with a header',
  )
  .addOption(
    new Option('--format <format>', 'ndjson or csv (default: from the file extension)').argParser(
      parseFormat,
    ),
  )
  .addOption(new Option('--url <url>', 'the Twindex API').env('TWINDEX_URL').default('http://127.0.0.1:8080'))
  .addOption(new Option('--secret <secret>', 'an API secret (better: the environment)').env('TWINDEX_SECRET'))
  .action(async (file: string, opts: { format?: 'ndjson' | 'csv'; url: string; secret?: string }) => {
    if (!opts.secret) {
      process.stderr.write('twindex import: a secret is needed: --secret or TWINDEX_SECRET\n');
      process.exitCode = EXIT.failed;
      return;
    }
    const format = opts.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
    try {
      const report = await importFile(file, {
        url: opts.url,
        secret: opts.secret,
        format,
        progress: process.stderr,
      });
      process.stdout.write(describeReport(report));
      process.exitCode =
        report.status !== 'completed' ? EXIT.failed : report.counts.skipped > 0 ? EXIT.skippedLines : EXIT.ok;
    } catch (e) {
      if (!(e instanceof ImportFailed)) throw e;
      process.stderr.write(`twindex import: ${e.message}\n`);
      process.exitCode = EXIT.failed;
    }
  });

const parseDict = (v: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('a JSON object, e.g. \'{"site":"WAW"}\'');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('a JSON object, e.g. \'{"site":"WAW"}\'');
  }
  return parsed as Record<string, unknown>;
};

const collect = (v: string, previous: string[] | undefined): string[] => [...(previous ?? []), v];

program
  .command('explain')
  .description(
    'why a caller does (not) see an identity: POST /resolve/explain printed as a tree, ✓/✗ per check.\n' +
      'Exit code: 0 the identity resolves to at least one twin, 1 it does not (or the call failed).',
  )
  .argument(
    '<identity>',
    'identity name, e.g. RFID#be144bdc (quote the #: the shell would take it for a comment)',
  )
  .option('--as-user <user>', 'explain for this user of your account (needs get_user)')
  .option('--context <context>', 'personal (default), system or an account UUID; repeat for several', collect)
  .addOption(
    new Option('--dict <json>', 'the X-TrustedTwin dictionary to assume, as JSON').argParser(parseDict),
  )
  .option('--details', 'explain the details=true answer (which twins are visible, and by what)')
  .option('--json', 'print the explanation as the API answers it')
  .addOption(new Option('--url <url>', 'the Twindex API').env('TWINDEX_URL').default('http://127.0.0.1:8080'))
  .addOption(new Option('--secret <secret>', 'an API secret (better: the environment)').env('TWINDEX_SECRET'))
  .action(
    async (
      identity: string,
      opts: {
        asUser?: string;
        context?: string[];
        dict?: Record<string, unknown>;
        details?: boolean;
        json?: boolean;
        url: string;
        secret?: string;
      },
    ) => {
      if (!opts.secret) {
        process.stderr.write('twindex explain: a secret is needed: --secret or TWINDEX_SECRET\n');
        process.exitCode = 1;
        return;
      }
      try {
        const explanation = await requestExplanation({ ...opts, secret: opts.secret, identity });
        process.stdout.write(
          opts.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderExplanation(explanation),
        );
        process.exitCode = resolves(explanation) ? 0 : 1;
      } catch (e) {
        if (!(e instanceof ExplainFailed)) throw e;
        process.stderr.write(`twindex explain: ${e.message}\n`);
        process.exitCode = 1;
      }
    },
  );

program.parseAsync(process.argv).catch((e: unknown) => {
  // One line, never a stack trace or a secret: what failed and why.
  const message = e instanceof TwindexError ? `${e.subcode}: ${e.message}` : (e as Error)?.message;
  process.stderr.write(`twindex: ${message ?? String(e)}\n`);
  process.exit(1);
});
