/** The ports the standalone stack's servers listen on, each named `http` on its container and Service. */

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const GRAFANA_PORT = 3000;
