import {
  clamdMissing,
  startClamd,
  startFakeClamd,
  startTestS3,
  type FakeClamd,
  type RealClamd,
  type TestS3,
} from '@topicdesk/testkit';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startCluster, type Cluster } from './cluster';

export interface FilesCluster {
  cluster: Cluster;
  s3: TestS3;
  clamd: FakeClamd | RealClamd;
  stop(): Promise<void>;
}

/**
 * The attachments suites' set-up: two gateways and a bridge with their files in an S3-compatible
 * server (s3rver on loopback), scanned by ClamAV's clamd on loopback (the stand-in where
 * clamav-daemon is not installed, said at the start), every file scanned
 * (`ATTACHMENTS_SCAN=required`).
 */
async function startFilesCluster(): Promise<FilesCluster> {
  const s3 = await startTestS3();
  const missing = clamdMissing();
  if (missing) console.log(`the clamd stand-in scans in this suite: ${missing}`);
  const clamd = missing ? await startFakeClamd() : await startClamd();
  const files = { ...s3.env, CLAMAV_URL: clamd.url, ATTACHMENTS_SCAN: 'required' };
  const cluster = await startCluster({ gateways: 2, gatewayEnv: files, bridgeEnv: files });
  return {
    cluster,
    s3,
    clamd,
    stop: async () => {
      await cluster.stop();
      await clamd.stop();
      await s3.stop();
    },
  };
}

/**
 * The suite's hooks: the files cluster started before its tests (handed to `onStart`), stopped
 * after them, and after a failed test what Telegram (the sandbox) saw last, the quickest way to
 * the cause.
 */
export function useFilesCluster(onStart: (files: FilesCluster) => void): void {
  let files: FilesCluster | undefined;
  beforeAll(async () => {
    files = await startFilesCluster();
    onStart(files);
  }, 120_000);
  afterAll(() => files?.stop());
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const call of files?.cluster.sandbox.state.calls().slice(-20) ?? [])
      console.log('sandbox call:', call.method, call.status, call.description ?? '');
  });
}
