import { CfnOutput, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIX, type ModelDeployment } from '../config';
import { CORS_MAX_AGE_SECONDS } from '../../core/api';

export interface ModelStoreProps {
  /** The models whose exports a BucketDeployment uploads; none = upload with `aws s3 sync` (see docs/deploy.md). */
  upload?: readonly ModelDeployment[];
  /** Origins a page may fetch artifacts from (CORS GET/HEAD, for presigned URLs); empty = no CORS. */
  allowOrigins?: readonly string[];
}

/**
 * The S3 bucket holding the `offload export` trees under `models/`.
 *
 * - Encrypted with S3-managed keys (SSE-S3): a KMS key would add a Decrypt call
 *   to every object a tail loads at its cold start, for no gain — the objects
 *   are model weights, not personal data — and a key policy to manage.
 * - All public access blocked, bucket-owner-enforced ownership, TLS required
 *   (`aws:SecureTransport` deny) at TLS 1.2 or above.
 * - Not versioned: every object is derived data that `offload export`
 *   reproduces bit for bit (seeded weights, sha256 in the manifest), and a
 *   tail's artifact is rewritten whole on each export; old versions of
 *   multi-hundred-megabyte weight shards would only cost storage.
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
      // One deployment per model so that a changed model re-uploads only itself; prune stays off so a
      // model's deployment never deletes another model's objects under the shared bucket.
      const upload = new BucketDeployment(this, `Upload-${m.model}`, {
        sources: [Source.asset(m.modelDir)],
        destinationBucket: this.bucket,
        destinationKeyPrefix: `${ARTIFACT_PREFIX}${m.model}/`,
        prune: false,
        memoryLimit: 2048,
        ephemeralStorageSize: Size.gibibytes(10),
      });
      this.deployments.push(upload);
    }
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'Artifact bucket (offload export trees under models/)' });
  }

  /** ARN pattern of the objects under `prefix` (which ends with `/`). */
  objectsArn(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  /**
   * Read access to the objects under `prefix` only: GetObject on `prefix*`, and
   * ListBucket restricted to that prefix so that a missing object is a 404
   * (NoSuchKey) the handler can name, not a 403.
   */
  readStatements(prefix: string): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.objectsArn(prefix)] }),
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    ];
  }

  /**
   * What a device may download with the API's client policy: the artifacts
   * `GET /models` points it at — manifests, heads (its part of a cut) and the
   * full model (device-only inference). Never the tails.
   */
  clientReadStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: this.deviceArtifactArns('*'),
    });
  }

  /** The device artifacts of a model (what {@link clientReadStatement} grants), `*` for every model. */
  private deviceArtifactArns(model: string): string[] {
    return ['manifest.json', 'heads/*', 'full/*'].map((p) => this.bucket.arnForObjects(`${ARTIFACT_PREFIX}${model}/${p}`));
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
