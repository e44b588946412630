import { createInProcessBus, InProcessBroker } from '../src/index';
import { describeBus } from './bus-suite';
import { setupTracing } from './fixtures';

const spans = setupTracing();

describeBus(
  'in-process',
  async () => {
    const broker = new InProcessBroker();
    return {
      createBus: async (logger) => createInProcessBus({ broker, logger }),
      publishRaw: async (topic, payload) => {
        broker.enqueue(topic.subject, { payload });
      },
      cleanup: async () => {},
    };
  },
  spans,
);
