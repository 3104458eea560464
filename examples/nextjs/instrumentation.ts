// Next.js with @vercel/otel (OpenTelemetry JS 2.x): `instrumentation.ts` at the project root, or in
// src/. Next.js calls register() once per server instance and runtime. PostHog events need the
// Node.js runtime (the edge runtime has no undici), so the processors load only when NEXT_RUNTIME
// is 'nodejs', from a file of their own that the edge bundle never imports.
import { registerOTel } from '@vercel/otel';

export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { posthogProcessors } = await import('./instrumentation.node');
    registerOTel({ serviceName: 'web', ...posthogProcessors() });
  } else {
    registerOTel({ serviceName: 'web' });
  }
}
