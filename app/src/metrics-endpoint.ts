import type http from 'node:http';
import { HttpProblem } from './http/errors';
import { toProblem } from './http/middleware';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

export const METRICS_PATH = '/metrics';

/**
 * The request handler of the metrics port (METRICS_PORT): `GET /metrics` in the Prometheus text
 * format, any other path a problem+json 404 and any other method a 405. Metrics have a port of
 * their own, apart from the public API, because a NetworkPolicy selects ports, not paths: on
 * their own port they can be opened to Prometheus alone, while the ingress controller reaches
 * only the API. Nothing of the API's middleware applies here (no rate limit, no CORS, and the
 * scrapes do not count as HTTP requests of the service).
 */
export function metricsRequestListener(metrics: Metrics, logger: Logger): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const fail = (err: unknown): void => {
      // No feature runs on this port, so no feature's error map applies.
      const problem = toProblem(err, path, []);
      if (problem.status >= 500) logger.error('metrics scrape failed', { error: err });
      const json = JSON.stringify(problem.body);
      res.writeHead(problem.status, {
        ...problem.headers,
        'Content-Type': 'application/problem+json',
        'Content-Length': Buffer.byteLength(json),
      });
      res.end(json);
    };
    if (path !== METRICS_PATH) {
      fail(
        new HttpProblem(
          404,
          'Not Found',
          `No route for ${req.method ?? ''} ${path}; this port serves ${METRICS_PATH} only`,
        ),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(
        new HttpProblem(
          405,
          'Method Not Allowed',
          `${req.method ?? ''} is not allowed on ${path}; allowed: GET, HEAD`,
          [],
          {
            Allow: 'GET, HEAD',
          },
        ),
      );
      return;
    }
    metrics.registry.metrics().then((text) => {
      res.writeHead(200, {
        'Content-Type': metrics.registry.contentType,
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    }, fail);
  };
}
