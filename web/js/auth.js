// Sign-in against Cognito's user-pool API (InitiateAuth USER_PASSWORD_AUTH, then the
// NEW_PASSWORD_REQUIRED challenge of a first sign-in). moto has no hosted UI, so the console
// calls the API itself, locally and on AWS alike. The ID token is what API Gateway's Cognito
// authorizer verifies; it is kept for this tab only (sessionStorage), never in the URL.

const KEY = "segmentation.idToken";

async function cognito(config, action, body) {
  const response = await fetch(config.cognito.endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const kind = String(answer.__type || "").split("#").pop();
    const words = {
      NotAuthorizedException: "wrong e-mail or password",
      UserNotFoundException: "wrong e-mail or password",
      InvalidPasswordException: "the new password does not meet the policy",
    };
    throw new Error(words[kind] || answer.message || `sign-in failed (${response.status})`);
  }
  return answer;
}

/** Signs in; returns {token} or {challenge, session} when a new password is required. */
export async function signIn(config, email, password) {
  const answer = await cognito(config, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.cognito.client_id,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (answer.ChallengeName) return { challenge: answer.ChallengeName, session: answer.Session };
  return { token: keep(answer.AuthenticationResult.IdToken) };
}

export async function setNewPassword(config, email, session, newPassword) {
  const answer = await cognito(config, "RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    ClientId: config.cognito.client_id,
    Session: session,
    ChallengeResponses: { USERNAME: email, NEW_PASSWORD: newPassword },
  });
  return { token: keep(answer.AuthenticationResult.IdToken) };
}

function keep(token) {
  sessionStorage.setItem(KEY, token);
  return token;
}

/** The token, while it has not expired. */
export function currentToken() {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (claims.exp * 1000 > Date.now() + 10_000) return token;
  } catch (_) {
    /* a malformed token is no token */
  }
  signOut();
  return null;
}

export function tokenEmail(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).email || "";
  } catch (_) {
    return "";
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
