/**
 * What other modules plug into auth through the AuthApi: extra UIA stages and third-party identifier
 * support. Auth never imports those modules; it only asks what was registered here.
 */
import type { RemoteProfileSource, ThreepidSupport, UiaStageHandler } from '../api.js';

export class AuthExtensions {
  private readonly stages = new Map<string, UiaStageHandler>();
  private support: ThreepidSupport | undefined;
  /** Whether two users share a joined room (registered by the rooms module). */
  sharesRoom: ((a: string, b: string) => Promise<boolean>) | undefined;
  /** Profiles of other servers' users (registered by the federation module). */
  remoteProfiles: RemoteProfileSource | undefined;

  registerUiaStage(type: string, handler: UiaStageHandler): void {
    if (this.stages.has(type)) throw new Error(`UIA stage ${type} is already registered`);
    this.stages.set(type, handler);
  }

  uiaStage(type: string): UiaStageHandler | undefined {
    return this.stages.get(type);
  }

  registerThreepidSupport(support: ThreepidSupport): void {
    if (this.support) throw new Error('third-party identifier support is already registered');
    this.support = support;
  }

  get threepids(): ThreepidSupport | undefined {
    return this.support;
  }
}
