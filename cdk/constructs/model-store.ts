import { AssetHashType, CfnOutput, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { OffloadError } from '../../core/errors';
import { ARTIFACT_PREFIX, type ModelDeployment } from '../config';
import { CORS_MAX_AGE_SECONDS } from '../../core/api';

export interface ModelStoreProps {
  /** The models whose exports a BucketDeployment uploads; none = upload with `aws s3 sync` (see docs/deploy.md). */
  upload?: readonly ModelDeployment[];
  /** Origins a page may fetch artifacts from (CORS GET/HEAD, for presigned URLs); empty = no CORS. */
  allowOrigins?: readonly string[];
}

const MIB = 2 ** 20;
/** Lambda's largest /tmp. */
export const MAX_EPHEMERAL_MB = 10_240;
/** Room the BucketDeployment handler needs beside the files (its own code, the AWS CLI's temporary files). */
const EPHEMERAL_HEADROOM_MB = 512;

/**
 * Memory and /tmp of the BucketDeployment that copies one model's export:
 * its handler downloads the asset zip into /tmp and extracts it there before
 * `aws s3 sync`, so /tmp holds the export twice (weights do not compress).
 * Sizes are rounded up to a power of two (≥ 1 GiB) so that models of similar
 * size share one handler function. The largest export that fits is
 * (10,240 − 512) / 2 MiB ≈ 4.75 GiB; a bigger one must use `upload: "sync"`.
 */
export function deploymentSizing(model: string, exportBytes: number): { memoryLimit: number; ephemeralMB: number } {
  const needMB = Math.ceil((2 * exportBytes) / MIB) + EPHEMERAL_HEADROOM_MB;
  if (needMB > MAX_EPHEMERAL_MB) {
    throw new OffloadError(
      'invalid-input',
      `the export of ${model} is ${(exportBytes / 2 ** 30).toFixed(2)} GiB; a BucketDeployment can copy at most ` +
        `${((MAX_EPHEMERAL_MB - EPHEMERAL_HEADROOM_MB) / 2 / 1024).toFixed(2)} GiB per model (it unpacks the zip in Lambda's 10 GiB /tmp). ` +
        `Set "upload": "sync" and copy it with \`aws s3 sync\` after deploy (docs/deploy.md).`,
    );
  }
  const ephemeralMB = Math.min(MAX_EPHEMERAL_MB, Math.max(1024, 2 ** Math.ceil(Math.log2(needMB))));
  // The handler streams files; memory only speeds up the CLI's parallel multipart copies of big segments.
  const memoryLimit = exportBytes > 512 * MIB ? 2048 : 1024;
  return { memoryLimit, ephemeralMB };
}

/**
 * The S3 bucket holding the `offload export` trees under `models/`.
 *
 * - Encrypted with S3-managed keys (SSE-S3): a KMS key would add a Decrypt call
 *   to every object a tail loads at its cold start, for no gain — the objects
 *   are model weights, not personal data — and a key policy to manage.
 * - All public access blocked, bucket-owner-enforced ownership, TLS required
 *   (`aws:SecureTransport` deny) at TLS 1.2 or above.
 * - Not versioned: every object is derived data that the export reproduces
 *   bit for bit (seeded weights, sha256 in the manifest); old versions of
 *   multi-hundred-megabyte weight segments would only cost storage.
 * - Layout (core/manifest.ts): `models/<model>/manifest.json`, the weights
 *   once in `segments/<from>-<to>.bin`, and a small model.json per part
 *   (`full/`, `tails/<cut>/`, `heads/<cut>/`) naming the segments it reads.
 * - Retained when the stack is deleted (a non-empty bucket cannot be deleted
 *   by CloudFormation anyway); `aws s3 rb --force` removes it.
 */
export class ModelStore extends Construct {
  readonly bucket: s3.Bucket;
  /** Uploads of `-c upload=deployment` (empty with the default `sync`). */
  readonly deployments: BucketDeployment[] = [];

  constructor(scope: Construct, id: string, props: ModelStoreProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.allowOrigins?.length
        ? {
            cors: [
              {
                allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                allowedOrigins: [...props.allowOrigins],
                allowedHeaders: ['*'],
                exposedHeaders: ['content-length', 'etag'],
                maxAge: CORS_MAX_AGE_SECONDS,
              },
            ],
          }
        : {}),
    });
    for (const m of props.upload ?? []) {
      // One deployment per model, so a changed model re-uploads only itself. Its asset's hash is the
      // manifest's (which lists every file's sha256): no hashing of the weights at synth. Pruning acts
      // under models/<model>/ only, so segments of cuts no longer exported leave the bucket.
      const { memoryLimit, ephemeralMB } = deploymentSizing(m.model, m.exportBytes);
      const upload = new BucketDeployment(this, `Upload-${m.model}`, {
        sources: [Source.asset(m.modelDir, { assetHashType: AssetHashType.CUSTOM, assetHash: m.exportHash, exclude: ['*.tmp'] })],
        destinationBucket: this.bucket,
        destinationKeyPrefix: `${ARTIFACT_PREFIX}${m.model}/`,
        prune: true,
        memoryLimit,
        ephemeralStorageSize: Size.mebibytes(ephemeralMB),
      });
      this.deployments.push(upload);
    }
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'Artifact bucket (offload export trees under models/)' });
  }

  /**
   * Read access to exactly `keys`: GetObject on each, and ListBucket
   * restricted to those keys so that a missing object is a 404 (NoSuchKey)
   * the handler can name, not a 403.
   */
  readStatements(keys: readonly string[]): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: keys.map((k) => this.bucket.arnForObjects(k)) }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': [...keys] } },
      }),
    ];
  }

  /**
   * What a device may download with the API's client policy: the artifacts
   * `GET /models` points it at — manifests, heads (its part of a cut), the
   * full model (device-only inference) and the weight segments they name.
   * The tails' model.json files stay out (a device never runs a tail from
   * the cloud's copy); their weights are the full model's, which it may read.
   */
  clientReadStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: this.deviceArtifactArns('*'),
    });
  }

  /** The device artifacts of a model (what {@link clientReadStatement} grants), `*` for every model. */
  private deviceArtifactArns(model: string): string[] {
    return ['manifest.json', 'heads/*', 'full/*', 'segments/*'].map((p) => this.bucket.arnForObjects(`${ARTIFACT_PREFIX}${model}/${p}`));
  }

  /**
   * The planner's reads: each deployed model's manifest and optional cloud profiles
   * (`models/<model>/profiles/*`) to plan with, and its device artifacts, whose presigned
   * URLs `GET /models` hands to pages (a presigned URL carries its signer's permissions).
   * Never the tails.
   */
  plannerReadStatement(models: readonly string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: models.flatMap((m) => [...this.deviceArtifactArns(m), this.bucket.arnForObjects(`${ARTIFACT_PREFIX}${m}/profiles/*`)]),
    });
  }
}
