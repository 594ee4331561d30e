import type { ApiOptions } from '../api/options.js';
import type { Config } from '../config/config.js';
import { DEFAULT_LOGIN_THROTTLE } from '../security/login-throttle.js';

/** The API's rate limit per key and its login throttle, as configured (embedded and cluster alike). */
export function apiPolicies(config: Config): Pick<ApiOptions, 'limits' | 'loginThrottle'> {
  return {
    limits: { rateLimit: { perSecond: config.apiRatePerSecond, burst: config.apiRateBurst } },
    loginThrottle: {
      ...DEFAULT_LOGIN_THROTTLE,
      accountThreshold: config.loginAccountThreshold,
      addressThreshold: config.loginAddressThreshold,
    },
  };
}
