// The arena page: start a battle, stream both anonymous answers side by side, vote once, and
// reveal the two models. Talks to the arena's REST endpoints with the session's CSRF token.

import { announce, csrfToken, pathPrefix } from "./site.js";

const form = document.getElementById("arena-form");

async function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body ?? {}),
  });
}

async function failure(response) {
  try {
    return (await response.json()).error ?? `Request failed (${response.status})`;
  } catch {
    return `Request failed (${response.status})`;
  }
}

async function streamAnswer(battle, side) {
  const target = document.getElementById(`arena-answer-${side}`);
  const response = await post(`${pathPrefix()}/api/v1/arena/battles/${battle}/answers/${side}`);
  if (!response.ok) throw new Error(await failure(response));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    target.textContent += decoder.decode(value, { stream: true });
  }
  target.textContent += decoder.decode();
}

if (form) {
  const error = document.getElementById("arena-error");
  const sides = document.getElementById("arena-sides");
  const voting = document.getElementById("arena-vote");
  const result = document.getElementById("arena-result");
  const go = document.getElementById("arena-go");
  let battle = null;

  const showError = (message) => {
    error.textContent = message;
    error.hidden = false;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    result.hidden = true;
    voting.hidden = true;
    go.disabled = true;
    for (const side of ["a", "b"]) {
      document.getElementById(`arena-answer-${side}`).textContent = "";
      document.getElementById(`arena-name-${side}`).textContent = "";
    }
    try {
      const response = await post(`${pathPrefix()}/api/v1/arena/battles`, { prompt: form.elements.prompt.value });
      if (!response.ok) throw new Error(await failure(response));
      battle = (await response.json()).battle;
      sides.hidden = false;
      announce("Both models are answering.");
      await Promise.all([streamAnswer(battle, "a"), streamAnswer(battle, "b")]);
      voting.hidden = false;
      voting.querySelector("button").focus();
    } catch (err) {
      showError(err.message);
    } finally {
      go.disabled = false;
    }
  });

  voting.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-outcome]");
    if (!button || !battle) return;
    for (const other of voting.querySelectorAll("button")) other.disabled = true;
    const response = await post(`${pathPrefix()}/api/v1/arena/battles/${battle}/vote`, { outcome: button.dataset.outcome });
    if (!response.ok) {
      showError(await failure(response));
      return;
    }
    const vote = await response.json();
    document.getElementById("arena-name-a").textContent = `— ${vote.model_a}`;
    document.getElementById("arena-name-b").textContent = `— ${vote.model_b}`;
    result.textContent = vote.counted
      ? "Thank you: your vote counts towards the arena board."
      : "Thank you: you reached the vote cap on this pair, so this vote is logged but not counted.";
    result.hidden = false;
    voting.hidden = true;
    for (const other of voting.querySelectorAll("button")) other.disabled = false;
    battle = null;
    announce(result.textContent);
  });
}
