import { ConfigError } from '@topicdesk/config';
import { secretScrubber, secretValues } from '@topicdesk/telemetry';

/**
 * A service that cannot start says why in one readable block and exits 1; the secrets of `env`
 * (and any Bot API token) are scrubbed from it, as from every log line.
 */
export function exitOnStartupError(
  error: unknown,
  env: Record<string, string | undefined> = {},
): never {
  const scrub = secretScrubber(secretValues(env));
  if (error instanceof ConfigError) {
    process.stderr.write(scrub(`${error.message}\nSee .env.example for every variable.\n`));
  } else {
    process.stderr.write(
      scrub(
        `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      ),
    );
  }
  process.exit(1);
}
