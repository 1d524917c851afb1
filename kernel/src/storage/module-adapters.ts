import type { ModuleScope, ModuleServiceProvider } from "../module/module-api.js";
import { Tokens } from "../tokens.js";
import type { ScsiAdapterRegistry } from "./adapter-registry.js";
import type { AdapterRegistry, RegisteredScsiAdapter } from "./scsi-adapter.js";

/** Tokens.ScsiAdapters for one module: its adapters run in its fault domain and are unregistered with it. */
export function scsiAdaptersProvider(registry: ScsiAdapterRegistry): ModuleServiceProvider {
  return {
    token: Tokens.ScsiAdapters,
    create(scope: ModuleScope): AdapterRegistry {
      const view = registry.forModules(scope.domain);
      const registered = new Set<RegisteredScsiAdapter>();
      scope.onRelease(() => {
        for (const adapter of registered) view.unregister(adapter);
        registered.clear();
      });
      return {
        register(adapter, options) {
          const handle = view.register(adapter, options);
          registered.add(handle);
          return handle;
        },
        unregister(handle) {
          if (!registered.delete(handle)) throw new Error(`${scope.name}: ${handle.name} was not registered by this module`);
          view.unregister(handle);
        },
      };
    },
  };
}
