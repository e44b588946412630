/** The part of a pino logger this package uses; a pino `Logger` satisfies it as is. */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const noopLogger: Logger = {
  info() {},
  warn() {},
  error() {},
};
