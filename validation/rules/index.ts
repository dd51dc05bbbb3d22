import type { Rule } from '../context';
import { apiEnv } from './api-env';
import { apiKindSpecific } from './api-kind-specific';
import { apiLabels } from './api-labels';
import { apiListMap } from './api-listmap';
import { apiNames } from './api-names';
import { apiPorts } from './api-ports';
import { apiProbes } from './api-probes';
import { apiResources } from './api-resources';
import { apiSelector } from './api-selector';
import { apiVolumes } from './api-volumes';
import { bpAvailability, bpImage, bpNetpol, bpProbes, bpResources } from './best-practices';
import { kafkaQuorum } from './kafka-quorum';
import { kustomizationRule } from './kustomization';
import { monRules } from './mon-rules';
import { secPssRestricted } from './sec-pss';
import { secRbac, secRofs, secSaToken, secSecrets } from './sec-misc';
import { xrefDns } from './xref-dns';
import { xrefQuota } from './xref-quota';
import { xrefRefs } from './xref-refs';
import { xrefHpa, xrefIngress, xrefProbePort, xrefService, xrefStsHeadless } from './xref-workloads';

/** Every rule except SCHEMA-STRICT (per version) and YAML-HYGIENE (at parse time). */
export const RULES: readonly Rule[] = [
  kustomizationRule,
  apiNames,
  apiLabels,
  apiSelector,
  apiListMap,
  apiPorts,
  apiEnv,
  apiProbes,
  apiResources,
  apiVolumes,
  apiKindSpecific,
  xrefService,
  xrefStsHeadless,
  xrefRefs,
  xrefIngress,
  xrefHpa,
  xrefProbePort,
  xrefDns,
  xrefQuota,
  kafkaQuorum,
  secPssRestricted,
  secRofs,
  secSaToken,
  secSecrets,
  secRbac,
  bpResources,
  bpImage,
  bpProbes,
  bpAvailability,
  bpNetpol,
  monRules,
];
