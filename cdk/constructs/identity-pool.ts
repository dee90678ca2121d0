import { CfnOutput } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface IdentityPoolProps {
  /** The policy both roles get (the API's ClientPolicy: plan, models, infer, and the device artifacts). */
  clientPolicy: iam.IManagedPolicy;
  /** Guests (no login) get credentials too, through the unauthenticated role. */
  allowUnauthenticated: boolean;
  /** Allow the basic (classic) flow besides the enhanced one. */
  classicFlow: boolean;
  /** Cognito user pools (`<region>_<id>`) and their app clients whose ID tokens authenticate an identity. */
  userPools: readonly { userPoolId: string; clientId: string }[];
  /** Public login providers (`accounts.google.com`, …) and their app ids. */
  loginProviders: Readonly<Record<string, string>>;
}

/** The trust policy's `amr` value for each role: what Cognito puts in the token it hands STS. */
export const AMR = { authenticated: 'authenticated', unauthenticated: 'unauthenticated' } as const;

/**
 * A Cognito identity pool that turns a page visitor into temporary AWS
 * credentials allowed exactly the client policy, so a browser can SigV4-sign
 * its API calls without holding a secret (docs/browser.md, "Auth in AWS").
 * Each role trusts only this pool (`aud`) and only its kind of identity
 * (`amr`): a guest token cannot assume the authenticated role, which matters
 * once the basic flow lets a page call STS itself. The guest role exists only
 * when guests are allowed.
 */
export class IdentityPool extends Construct {
  readonly pool: cognito.CfnIdentityPool;
  readonly authenticatedRole: iam.Role;
  readonly unauthenticatedRole: iam.Role | undefined;

  constructor(scope: Construct, id: string, props: IdentityPoolProps) {
    super(scope, id);
    this.pool = new cognito.CfnIdentityPool(this, 'Pool', {
      allowUnauthenticatedIdentities: props.allowUnauthenticated,
      allowClassicFlow: props.classicFlow,
      ...(props.userPools.length === 0
        ? {}
        : {
            cognitoIdentityProviders: props.userPools.map((p) => ({
              providerName: `cognito-idp.${p.userPoolId.split('_')[0]!}.amazonaws.com/${p.userPoolId}`,
              clientId: p.clientId,
              serverSideTokenCheck: true,
            })),
          }),
      ...(Object.keys(props.loginProviders).length === 0 ? {} : { supportedLoginProviders: { ...props.loginProviders } }),
    });
    const role = (roleId: string, amr: string, description: string): iam.Role =>
      new iam.Role(this, roleId, {
        description,
        assumedBy: new iam.FederatedPrincipal(
          'cognito-identity.amazonaws.com',
          {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': this.pool.ref },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': amr },
          },
          'sts:AssumeRoleWithWebIdentity',
        ),
        managedPolicies: [props.clientPolicy],
      });
    this.authenticatedRole = role('AuthenticatedRole', AMR.authenticated, 'offload: signed-in page visitors (Cognito identity pool) call the API');
    this.unauthenticatedRole = props.allowUnauthenticated
      ? role('UnauthenticatedRole', AMR.unauthenticated, 'offload: guest page visitors (Cognito identity pool) call the API')
      : undefined;
    new cognito.CfnIdentityPoolRoleAttachment(this, 'Roles', {
      identityPoolId: this.pool.ref,
      roles: {
        authenticated: this.authenticatedRole.roleArn,
        ...(this.unauthenticatedRole ? { unauthenticated: this.unauthenticatedRole.roleArn } : {}),
      },
    });
    new CfnOutput(this, 'Id', { value: this.pool.ref, description: 'Cognito identity pool id: a page gets credentials with GetId + GetCredentialsForIdentity (docs/browser.md)' });
    new CfnOutput(this, 'AuthenticatedRoleArn', { value: this.authenticatedRole.roleArn, description: 'Role of signed-in identities (basic flow: AssumeRoleWithWebIdentity on it)' });
    if (this.unauthenticatedRole) {
      new CfnOutput(this, 'UnauthenticatedRoleArn', { value: this.unauthenticatedRole.roleArn, description: 'Role of guest identities (basic flow: AssumeRoleWithWebIdentity on it)' });
    }
  }
}
