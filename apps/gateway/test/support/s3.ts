import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** A key prefix of this run's own, so runs against one server never meet. */
  prefix: string;
  /** A client for looking into the bucket. */
  client: S3Client;
  stop(): Promise<void>;
}

/**
 * The S3-compatible server of the S3 tests: the one `MPC_TEST_S3_ENDPOINT` names (`.ci/run` starts
 * s3rver in its own process), or an s3rver started here on a free port. The gateway's SDK takes the
 * credentials from the environment, as it would in production.
 */
export async function startTestS3(): Promise<TestS3> {
  const credentials = {
    accessKeyId: process.env.MPC_TEST_S3_ACCESS_KEY_ID ?? 'S3RVER',
    secretAccessKey: process.env.MPC_TEST_S3_SECRET_ACCESS_KEY ?? 'S3RVER',
  };
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const bucket = process.env.MPC_TEST_S3_BUCKET ?? 'mpc-test';
  const prefix = `run-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  let endpoint = process.env.MPC_TEST_S3_ENDPOINT;
  let stopServer = async () => {};
  if (!endpoint) {
    if (process.env.CI) throw new Error('MPC_TEST_S3_ENDPOINT is not set: CI must start an S3-compatible server (.ci/run starts s3rver).');
    const directory = mkdtempSync(join(tmpdir(), 'mpc-s3-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    stopServer = async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    };
  }
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
  });
  return {
    endpoint,
    bucket,
    prefix,
    client,
    stop: async () => {
      client.destroy();
      await stopServer();
    },
  };
}
