// The browser uploader: files and folders (drag and drop or the file inputs), a progress bar per
// file, and one commit at the end.
//
// Files at least the LFS threshold go through the same path the git-LFS clients use:
//   1. hash the file here (sha256, slice by slice), 2. POST the LFS batch API, 3. send the bytes —
//   in parts to the signed part URLs when the batch offers the multipart transfer (asking first
//   which parts an interrupted earlier attempt already delivered, so uploads resume), else in one
//   PUT —, 4. POST the completion and verify URLs.
// Smaller files travel base64-encoded inside the NDJSON commit (POST /api/{type}s/{repo}/commit/{rev}),
// which also names the large files by their sha256. Every request carries the session cookie and
// the CSRF token; failed transfers are retried with backoff.
//
// A commit may open a pull request instead (``?create_pr=1``: the only way for people who cannot
// write to the branch); later commits from the same page then go onto that pull request.

import { Sha256 } from "./sha256.js";
import { announce, csrfToken } from "./site.js";

const HASH_SLICE_BYTES = 4 * 1024 * 1024;
const MAX_ATTEMPTS = 4;
const LFS_TYPE = "application/vnd.git-lfs+json";

const form = document.getElementById("upload-form");

class UploadError extends Error {
  constructor(message, { retryable = false } = {}) {
    super(message);
    this.retryable = retryable;
  }
}

function formatSize(bytes) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  for (const unit of units) {
    if (value < 1000 || unit === "TB") return unit === "B" ? `${value} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1000;
  }
  return `${bytes} B`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function sameOrigin(url) {
  return new URL(url, window.location.href).origin === window.location.origin;
}

function requestHeaders(url, extra = {}) {
  return sameOrigin(url) ? { "X-CSRFToken": csrfToken(), ...extra } : { ...extra };
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch {
    // not JSON
  }
  return `${response.status} ${response.statusText}`;
}

async function postJson(url, body, contentType = "application/json") {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: requestHeaders(url, { "Content-Type": contentType, Accept: contentType }),
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const retryable = response.status >= 500 || response.status === 429;
    throw new UploadError(await errorMessage(response), { retryable });
  }
  return response.json();
}

/** PUT or POST ``body`` with upload progress; resolves with the response's ETag (or body text). */
function send(method, url, body, { headers = {}, onProgress = () => {}, responseType = "" } = {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    request.withCredentials = true;
    for (const [name, value] of Object.entries(requestHeaders(url, headers))) request.setRequestHeader(name, value);
    request.responseType = responseType;
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        resolve(request);
        return;
      }
      let message = `${request.status} ${request.statusText}`;
      try {
        const parsed = typeof request.response === "string" ? JSON.parse(request.response) : request.response;
        if (parsed && parsed.error) message = parsed.error;
      } catch {
        // keep the status line
      }
      const retryable = request.status >= 500 || request.status === 408 || request.status === 429;
      reject(new UploadError(message, { retryable }));
    };
    request.onerror = () => reject(new UploadError("The connection failed.", { retryable: true }));
    request.send(body);
  });
}

async function withRetries(task, onRetry) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (!(error instanceof UploadError) || !error.retryable || attempt >= MAX_ATTEMPTS) throw error;
      onRetry(attempt + 1);
      await sleep(500 * 2 ** attempt);
    }
  }
}

async function hashFile(file, onProgress) {
  const hasher = new Sha256();
  for (let offset = 0; offset < file.size; offset += HASH_SLICE_BYTES) {
    const slice = new Uint8Array(await file.slice(offset, offset + HASH_SLICE_BYTES).arrayBuffer());
    hasher.update(slice);
    onProgress((offset + slice.length) / file.size);
  }
  return hasher.hexDigest();
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(new UploadError(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
}

/** Files under a dropped folder entry, with their paths relative to the drop. */
async function walkEntry(entry) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, path: entry.fullPath.replace(/^\/+/, "") }];
  }
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map(walkEntry));
  return nested.flat();
}

class Uploader {
  constructor(root) {
    this.form = root;
    this.config = {
      batchUrl: root.dataset.batchUrl,
      commitUrl: root.dataset.commitUrl,
      partsUrl: root.dataset.partsUrl,
      treeUrl: root.dataset.treeUrl,
      lfsThreshold: Number(root.dataset.lfsThreshold),
    };
    this.parentCommit = root.dataset.parentCommit;
    this.pullRequestOnly = root.dataset.pullRequestOnly === "true";
    this.items = new Map();
    this.list = document.getElementById("upload-list");
    this.empty = document.getElementById("upload-empty");
    this.status = document.getElementById("upload-status");
    this.submit = document.getElementById("upload-submit");
    this.directory = document.getElementById("upload-directory");
    this.busy = false;
    this.bind();
    root.dataset.ready = "true";
  }

  bind() {
    const fileInput = document.getElementById("file-input");
    const folderInput = document.getElementById("folder-input");
    fileInput.addEventListener("change", () => {
      this.add([...fileInput.files].map((file) => ({ file, path: file.name })));
      fileInput.value = "";
    });
    folderInput.addEventListener("change", () => {
      this.add([...folderInput.files].map((file) => ({ file, path: file.webkitRelativePath || file.name })));
      folderInput.value = "";
    });
    const zone = document.getElementById("dropzone");
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("dropzone-active");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dropzone-active"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("dropzone-active");
      this.add(await this.dropped(event.dataTransfer));
    });
    // A file dropped beside the zone must not make the browser leave the page for it.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
  }

  async dropped(transfer) {
    const entries = [...(transfer.items || [])]
      .map((item) => (item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (entries.length > 0) return (await Promise.all(entries.map(walkEntry))).flat();
    return [...transfer.files].map((file) => ({ file, path: file.name }));
  }

  add(files) {
    if (this.busy || files.length === 0) return;
    for (const item of this.items.values()) {
      if (item.committed) this.remove(item.path);
    }
    for (const { file, path } of files) {
      if (this.items.has(path)) this.remove(path);
      this.items.set(path, this.row(file, path));
    }
    this.refresh();
    announce(`${files.length} file${files.length === 1 ? "" : "s"} added; ${this.items.size} to commit.`);
  }

  row(file, path) {
    const li = document.createElement("li");
    li.className = "upload-item";
    li.dataset.path = path;
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = path;
    const size = document.createElement("span");
    size.className = "upload-size muted";
    size.textContent = formatSize(file.size);
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `Progress of ${path}`);
    const state = document.createElement("span");
    state.className = "upload-state";
    state.textContent = file.size >= this.config.lfsThreshold ? "Ready (large file)" : "Ready";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${path}`);
    remove.addEventListener("click", () => {
      this.remove(path);
      this.refresh();
    });
    li.append(name, size, bar, state, remove);
    this.list.append(li);
    return { file, path, li, bar, state, remove, sha256: null, committed: false };
  }

  remove(path) {
    const item = this.items.get(path);
    if (!item || this.busy) return;
    item.li.remove();
    this.items.delete(path);
  }

  refresh() {
    const pending = [...this.items.values()].filter((item) => !item.committed).length;
    this.empty.hidden = this.items.size > 0;
    this.submit.disabled = this.busy || pending === 0;
  }

  setState(item, text) {
    item.state.textContent = text;
  }

  setProgress(item, fraction) {
    item.bar.value = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  }

  targetPath(item) {
    const directory = this.directory.value.split("/").filter((part) => part && part !== ".").join("/");
    return directory ? `${directory}/${item.path}` : item.path;
  }

  async run() {
    const items = [...this.items.values()].filter((item) => !item.committed);
    if (this.busy || items.length === 0) return;
    this.busy = true;
    this.refresh();
    for (const item of items) item.remove.disabled = true;
    this.status.textContent = "Uploading…";
    try {
      for (const item of items) {
        if (item.file.size >= this.config.lfsThreshold) await this.uploadLarge(item);
      }
      const opensPullRequest = this.opensPullRequest();
      const result = await this.commit(items, opensPullRequest);
      this.parentCommit = result.commitOid;
      for (const item of items) {
        item.committed = true;
        item.remove.hidden = true;
        this.setProgress(item, 1);
        this.setState(item, "Committed");
      }
      if (opensPullRequest && result.pullRequestUrl) this.followPullRequest(result.pullRequestUrl);
      this.showDone(items.length, result, opensPullRequest);
    } catch (error) {
      this.status.textContent = `Upload failed: ${error.message}`;
      this.status.classList.add("upload-failed");
      for (const item of items) item.remove.disabled = false;
    } finally {
      this.busy = false;
      this.refresh();
    }
  }

  /** True when this commit should open a pull request rather than commit to the branch. */
  opensPullRequest() {
    if (this.pullRequestOnly) return true;
    return this.form.querySelector('input[name="target"]:checked')?.value === "pr";
  }

  /** Send the next commits to the pull request just opened (``refs/pr/N``) instead of opening more. */
  followPullRequest(url) {
    const number = new URL(url, window.location.href).pathname.match(/\/discussions\/(\d+)$/)?.[1];
    if (!number) return;
    const revision = encodeURIComponent(`refs/pr/${number}`);
    this.config.commitUrl = this.config.commitUrl.replace(/\/commit\/[^/?]+$/, `/commit/${revision}`);
    this.pullRequestOnly = false;
    this.form.querySelector(".commit-target")?.remove();
    this.submit.textContent = `Commit to pull request #${number}`;
  }

  showDone(count, result, opened) {
    this.status.classList.remove("upload-failed");
    const files = `${count} file${count === 1 ? "" : "s"}`;
    const link = document.createElement("a");
    link.id = "upload-done-link";
    if (result.pullRequestUrl) {
      const number = result.pullRequestUrl.match(/(\d+)$/)?.[1] ?? "";
      this.status.textContent = opened
        ? `Opened pull request #${number} with ${files} (${result.commitOid.slice(0, 7)}). `
        : `Committed ${files} as ${result.commitOid.slice(0, 7)} to pull request #${number}. `;
      link.href = result.pullRequestUrl;
      link.textContent = "View the pull request";
    } else {
      this.status.textContent = `Committed ${files} as ${result.commitOid.slice(0, 7)}. `;
      link.href = this.config.treeUrl;
      link.textContent = "View the files";
    }
    this.status.append(link);
  }

  async uploadLarge(item) {
    const { file } = item;
    if (!item.sha256) {
      item.bar.removeAttribute("value"); // indeterminate while hashing
      item.sha256 = await hashFile(file, (fraction) => this.setState(item, `Hashing ${Math.floor(fraction * 100)}%`));
      item.bar.value = 0;
    }
    this.setState(item, "Starting upload");
    const answer = await postJson(
      this.config.batchUrl,
      { operation: "upload", transfers: ["basic", "multipart"], hash_algo: "sha256", objects: [{ oid: item.sha256, size: file.size }] },
      LFS_TYPE,
    );
    const object = answer.objects[0];
    if (object.error) throw new UploadError(`${item.path}: ${object.error.message}`);
    const upload = object.actions?.upload;
    if (upload) {
      if (upload.header && upload.header.chunk_size) await this.uploadParts(item, upload);
      else await this.uploadWhole(item, upload);
      if (object.actions.verify) {
        await withRetries(
          () => postJson(object.actions.verify.href, { oid: item.sha256, size: file.size }, LFS_TYPE),
          () => {},
        );
      }
    }
    this.setProgress(item, 1);
    this.setState(item, upload ? "Uploaded" : "Already on the hub");
    announce(`${item.path} uploaded.`);
  }

  async uploadWhole(item, upload) {
    const { file } = item;
    await withRetries(
      () => send("PUT", upload.href, file, {
        headers: upload.header || {},
        onProgress: (loaded) => {
          this.setProgress(item, loaded / file.size);
          this.setState(item, `Uploading ${formatSize(loaded)} of ${formatSize(file.size)}`);
        },
      }),
      (attempt) => this.setState(item, `Retrying (attempt ${attempt} of ${MAX_ATTEMPTS})…`),
    );
  }

  async receivedParts(item) {
    try {
      const answer = await postJson(this.config.partsUrl, { oid: item.sha256, size: item.file.size });
      return new Set(answer.parts);
    } catch {
      return new Set(); // resuming is an optimisation: without it, every part is sent
    }
  }

  async uploadParts(item, upload) {
    const { file } = item;
    const chunkSize = Number(upload.header.chunk_size);
    const numbers = Object.keys(upload.header)
      .filter((key) => /^\d+$/.test(key))
      .map(Number)
      .sort((a, b) => a - b);
    const received = await this.receivedParts(item);
    let done = 0;
    const parts = [];
    for (const number of numbers) {
      const start = (number - 1) * chunkSize;
      const end = Math.min(start + chunkSize, file.size);
      if (received.has(number)) {
        done += end - start;
        parts.push({ partNumber: number, etag: "" });
        this.setProgress(item, done / file.size);
        this.setState(item, `Resuming: ${formatSize(done)} already on the hub`);
        continue;
      }
      const request = await withRetries(
        () => send("PUT", upload.header[String(number)], file.slice(start, end), {
          onProgress: (loaded) => {
            this.setProgress(item, (done + loaded) / file.size);
            this.setState(item, `Uploading ${formatSize(done + loaded)} of ${formatSize(file.size)}`);
          },
        }),
        (attempt) => this.setState(item, `Retrying part ${number} (attempt ${attempt} of ${MAX_ATTEMPTS})…`),
      );
      done += end - start;
      parts.push({ partNumber: number, etag: (request.getResponseHeader("ETag") || "").replaceAll('"', "") });
    }
    this.setState(item, "Assembling");
    await withRetries(() => postJson(upload.href, { oid: item.sha256, parts }, LFS_TYPE), () => {});
  }

  async commit(items, opensPullRequest) {
    const summaryInput = document.getElementById("commit-summary");
    const description = document.getElementById("commit-description").value;
    const summary =
      summaryInput.value.trim() || (items.length === 1 ? `Upload ${this.targetPath(items[0])}` : `Upload ${items.length} files`);
    const encoder = new TextEncoder();
    const chunks = [];
    const ranges = [];
    let offset = 0;
    const push = (text) => {
      chunks.push(text);
      offset += encoder.encode(text).length;
    };
    push(`${JSON.stringify({ key: "header", value: { summary, description, parentCommit: this.parentCommit } })}\n`);
    for (const item of items) {
      const path = this.targetPath(item);
      if (item.file.size >= this.config.lfsThreshold) {
        push(`${JSON.stringify({ key: "lfsFile", value: { path, algo: "sha256", oid: item.sha256, size: item.file.size } })}\n`);
        continue;
      }
      this.setState(item, "Reading");
      const start = offset;
      push(`{"key":"file","value":{"path":${JSON.stringify(path)},"encoding":"base64","content":"`);
      push(await readBase64(item.file));
      push('"}}\n');
      ranges.push({ item, start, end: offset });
      this.setState(item, "Ready to send");
    }
    const body = new Blob(chunks, { type: "application/x-ndjson" });
    const url = opensPullRequest ? `${this.config.commitUrl}?create_pr=1` : this.config.commitUrl;
    const request = await send("POST", url, body, {
      headers: { "Content-Type": "application/x-ndjson", Accept: "application/json" },
      onProgress: (loaded) => {
        for (const { item, start, end } of ranges) {
          this.setProgress(item, (loaded - start) / Math.max(1, end - start));
          if (loaded > start && loaded < end) this.setState(item, "Uploading");
        }
      },
      responseType: "json",
    });
    return request.response;
  }
}

if (form) new Uploader(form);
