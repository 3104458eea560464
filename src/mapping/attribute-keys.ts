// Attribute keys read by the mapping. OpenTelemetry semantic conventions are copied here, as the
// semconv package recommends, rather than imported at run time.

export const ATTR_EXCEPTION_TYPE = 'exception.type';
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';
/** Deprecated in semconv, still sent by older instrumentations. */
export const ATTR_EXCEPTION_ESCAPED = 'exception.escaped';
/** Deprecated in favour of the LogRecord's EventName field; read only as a fallback. */
export const ATTR_EVENT_NAME = 'event.name';
export const ATTR_SERVICE_NAME = 'service.name';
export const EXCEPTION_EVENT_NAME = 'exception';

/** PostHog control attributes: they steer the mapping and never become properties. */
export const POSTHOG_EVENT = 'posthog.event';
export const POSTHOG_DISTINCT_ID = 'posthog.distinct_id';
export const POSTHOG_SESSION_ID = 'posthog.session_id';
export const POSTHOG_WINDOW_ID = 'posthog.window_id';
export const POSTHOG_UUID = 'posthog.uuid';
export const POSTHOG_PREFIX = 'posthog.';

/** distinct_id sources on the record, in precedence order; the resource's `posthog.distinct_id` comes last. */
export const DISTINCT_ID_KEYS = [POSTHOG_DISTINCT_ID, 'posthogDistinctId', 'user.id', 'enduser.id'] as const;
/** PostHog's own session and window attributes: they win over the request identity. */
export const SESSION_ID_KEYS = [POSTHOG_SESSION_ID, '$session_id'] as const;
export const WINDOW_ID_KEYS = [POSTHOG_WINDOW_ID, '$window_id'] as const;
/**
 * An application's own session ids (OpenTelemetry's `session.id` is an express or RUM session, say):
 * used after the request identity, and only when they are UUIDv7, as posthog-js's ids are.
 */
export const UUIDV7_SESSION_ID_KEYS = ['session.id', 'sessionId'] as const;
export const UUIDV7_WINDOW_ID_KEYS = ['window.id'] as const;

/** `posthog.*` attributes that become the event's typed `options`. */
export const OPTION_KEYS = {
  cookieless_mode: 'posthog.cookieless_mode',
  disable_skew_correction: 'posthog.disable_skew_correction',
  process_person_profile: 'posthog.process_person_profile',
  product_tour_id: 'posthog.product_tour_id',
} as const;

/** Properties the server derives itself from `PostHog-Sdk-Info`; sending them is wrong in v1. */
export const STRIPPED_PROPERTIES = new Set(['$lib', '$lib_version', '$session_id', '$window_id']);

/** Resource attributes copied into properties by default, under their own keys. */
export const DEFAULT_RESOURCE_KEYS = ['service.version', 'service.namespace', 'deployment.environment.name', 'deployment.environment'];
