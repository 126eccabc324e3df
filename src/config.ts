import { composeConfig, type Env, type PlatformConfig } from './platform/config';
import { moduleConfigReaders, type ModuleConfigs } from './modules';

export { ConfigError } from './platform/config';

/** The whole configuration: the platform's settings plus each module's section under its name. */
export type Config = PlatformConfig & ModuleConfigs;

/** Reads and validates every section at boot; throws ConfigError listing every problem at once. */
export function loadConfig(env: Env = process.env): Config {
  return composeConfig(env, moduleConfigReaders);
}
