import { down, kubectl, layout, status, up } from './control-plane';
import { prepareNodes, prepareStorage } from './fixtures';

/*
 * npm run cluster -- up|down|status: the test control plane for people. `up` starts it (or
 * finds it running), creates KWOK nodes (3 zones, 2 hosts each: enough for the cloud profile's
 * spread), the storage classes and volume provisioner every profile's claims need, and the CRDs
 * of the optional objects, then prints the kubeconfig to use.
 *   K8S_VERSION   which built release to run (test/cluster/versions.env)
 */
async function main(): Promise<void> {
  const command = process.argv[2] ?? 'status';
  const l = layout(process.env.K8S_VERSION);
  switch (command) {
    case 'up': {
      const started = Date.now();
      await up(l);
      prepareNodes(l);
      await prepareStorage(l);
      console.log(`cluster ${l.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`export KUBECONFIG=${l.kubeconfig}`);
      console.log(`kubectl: ${l.binDir}/kubectl`);
      return;
    }
    case 'down':
      await down(l);
      console.log(`cluster ${l.version} stopped`);
      return;
    case 'status': {
      const s = await status(l);
      for (const [component, pid] of Object.entries(s.running)) {
        console.log(`${component.padEnd(24)} ${pid === undefined ? 'not running' : `pid ${pid}`}`);
      }
      if (s.ready) console.log(kubectl(l, ['get', 'nodes', '-L', 'topology.kubernetes.io/zone']).trimEnd());
      console.log(s.ready ? `ready: export KUBECONFIG=${l.kubeconfig}` : 'not ready: npm run cluster -- up');
      process.exitCode = s.ready ? 0 : 3;
      return;
    }
    default:
      console.error(`unknown command '${command}': use up, down or status`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
