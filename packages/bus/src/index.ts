/**
 * @topicdesk/bus: what crosses NATS (the topic catalogue) and one `Bus` interface over NATS
 * JetStream / core NATS (`createNatsBus`) and its in-process twin (`createInProcessBus`).
 */
export { topics, durableTopics } from './topics';
export type { DurableTopic, SignalTopic, Topic, TopicName } from './topics';
export { DeadLetterReason } from './bus';
export type {
  Bus,
  BusHealth,
  BusLogger,
  ConsumeOptions,
  Consumption,
  DeadLetter,
  Delivery,
  PublishOptions,
  SignalSubscription,
} from './bus';
export { createNatsBus } from './nats-bus';
export type { NatsBusOptions } from './nats-bus';
export { createInProcessBus, InProcessBroker } from './in-process-bus';
export type { InProcessBusOptions } from './in-process-bus';
export { consumeDefaults, streamDefaults } from './options';
export { consoleBusLogger } from './logger';
export {
  BusErrorCode,
  BusOperationError,
  BusUnavailableError,
  BusPublishFailedError,
  BusInvalidPayloadError,
  BusInvalidOptionError,
  BusClosedError,
  BusConsumerConflictError,
  BusSetupFailedError,
  BusHandlerFailedError,
  BusDeliveriesExhaustedError,
  RetryLaterError,
  busErrorData,
  isBusErrorCode,
} from './errors';
export type { BusErrorData } from './errors';
