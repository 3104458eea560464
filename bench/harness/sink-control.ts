// Control calls to the sink from any process: read its counts, reset them, switch an outage on or off.

import { request } from 'node:http';
import type { SinkStats } from './sink.ts';

/** One control call, over node:http so it shares no connection pool with a contender. */
function control(sinkUrl: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(`${sinkUrl}${path}`, { method, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const sinkControl = {
  stats: (url: string) => control(url, 'GET', '/__stats') as Promise<SinkStats>,
  reset: (url: string) => control(url, 'POST', '/__reset').then(() => undefined),
  outage: (url: string, on: boolean) => control(url, 'POST', `/__outage?on=${on ? 1 : 0}`).then(() => undefined),
};
