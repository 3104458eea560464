// The service resource every contender's records carry.

import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

/** A typical service resource, built without detectors so every run sees the same one. */
export const RESOURCE_ATTRIBUTES: Attributes = {
  'service.name': 'checkout-api',
  'service.version': '2.14.1',
  'service.namespace': 'shop',
  'service.instance.id': '6f1c2a9e-3b1d-4f7a-9a55-0c2f8d1e7b42',
  'deployment.environment.name': 'production',
  'host.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
  'host.arch': 'amd64',
  'os.type': 'linux',
  'process.pid': 41237,
  'process.runtime.name': 'nodejs',
  'process.runtime.version': '24.11.0',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.version': '3.1.1',
  'cloud.provider': 'aws',
  'cloud.region': 'eu-west-1',
};

export function benchResource(): Resource {
  return resourceFromAttributes(RESOURCE_ATTRIBUTES);
}
