export { createLogger, type Logger, type LoggerOptions } from './logger';
export { initTelemetry, meter, type Telemetry, type TelemetryOptions } from './telemetry';
