/**
 * Deployments as one principal sees them: making a deployment live and rolling one back
 * are authorized (`deploy`, which per-model grants can give or withhold) and recorded in
 * the audit log with the deployment before and after, under the principal's own name, the
 * same way `GuardedRegistry` guards the registry. Reads pass through.
 *
 * Usage: `const deployments = new GuardedDeployments(platform.deployments, context)` (done by `Platform.actingAs`)
 */
import type { Deployment, DeploymentSpec, DeploymentStore, Who } from '../registry/deployment-store.js';
import { recordChange, type ChangeContext } from './record-change.js';

export class GuardedDeployments implements DeploymentStore {
  constructor(
    private readonly inner: DeploymentStore,
    private readonly context: ChangeContext,
  ) {}

  /** The caller's reason, under the authenticated subject's name. */
  private as(who: Who | undefined): Who {
    return { actor: this.context.principal.subject, reason: typeof who?.reason === 'string' ? who.reason : '' };
  }

  setDeployment(spec: DeploymentSpec, who: Who, options?: { replacing?: number }): Promise<Deployment> {
    const modelName = typeof spec?.modelName === 'string' ? spec.modelName : '';
    return this.change('deployment.set', modelName, who, () => this.inner.setDeployment(spec, this.as(who), options));
  }

  rollback(modelName: string, who: Who): Promise<Deployment> {
    return this.change('deployment.rollback', modelName, who, () => this.inner.rollback(modelName, this.as(who)));
  }

  getDeployment(modelName: string): Promise<Deployment | undefined> {
    return this.inner.getDeployment(modelName);
  }

  listDeployments(): Promise<Deployment[]> {
    return this.inner.listDeployments();
  }

  history(modelName: string): Promise<Deployment[]> {
    return this.inner.history(modelName);
  }

  latestId(): Promise<number> {
    return this.inner.latestId();
  }

  private change(action: string, modelName: string, who: Who | undefined, run: () => Promise<Deployment>): Promise<Deployment> {
    const spec = { action, permission: 'deploy' as const, model: modelName || undefined, target: `deployment of ${modelName || '(no model)'}`, reason: this.as(who).reason };
    return recordChange(this.context, { ...spec, before: async () => (modelName ? ((await this.inner.getDeployment(modelName)) ?? null) : null) }, run);
  }
}
