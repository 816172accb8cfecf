"""`--push-to-hub`: the token handling and the exact Hub calls, against a fake Hub on loopback.

The fake Hub implements the endpoints an upload of small files uses (create repo, list the repo's
files, preupload, commit with additions and deletions), keeps the repo's files between pushes and
records every request, so the test sees what would be sent to huggingface.co without any network:
the repo type and privacy flag, the token only in the Authorization header, and the repo's files
byte-identical to the local export (a re-push deletes the previous export's shards).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.cli import run_cli, run_process
from support.export_fixtures import coco_run, llava_records
from support.paths import REPO

TOKEN = "hf_testtoken_DO_NOT_LEAK_93c1"


class FakeHub(BaseHTTPRequestHandler):
    requests: list[dict] = []
    files: dict[str, bytes] = {}
    card_yaml = ""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakeHub.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path == "/api/repos/create":
            req = json.loads(body)
            return self._json(
                {"url": f"http://{self.headers['Host']}/datasets/{req['organization']}/{req['name']}"}
            )
        if self.path == "/api/validate-yaml":  # the Hub checks a README's YAML header before a commit
            FakeHub.card_yaml = json.loads(body)["content"]
            return self._json({"errors": [], "warnings": []})
        if "/preupload/" in self.path:
            files = json.loads(body)["files"]
            return self._json(
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                    ]
                }
            )
        if "/commit/" in self.path:
            for line in body.splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    FakeHub.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                elif item["key"] == "deletedFile":
                    del FakeHub.files[item["value"]["path"]]
            return self._json(
                {
                    "commitUrl": f"http://{self.headers['Host']}/datasets/me/x/commit/abc",
                    "commitOid": "abc" * 13 + "a",
                }
            )
        self.send_response(404)
        self.end_headers()

    def do_GET(self):
        if "/tree/main" in self.path:  # list_repo_files, which upload_folder's delete_patterns needs
            FakeHub.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), "body": b""}
            )
            tree = [
                {"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                for p, b in sorted(FakeHub.files.items())
            ]
            return self._json(tree)
        # Anything else is huggingface_hub's own unauthenticated look-up (its agent registry): not ours.
        self.send_response(404)
        self.end_headers()

    def _json(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_hub():
    FakeHub.requests, FakeHub.files = [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env["PYTHONPATH"] = str(REPO)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _all_text_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_push_sends_private_dataset_repo_and_exact_files(tmp_path, coco_mini, fake_hub):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    home = tmp_path / "home"
    env = _env(HF_TOKEN=TOKEN, HF_ENDPOINT=fake_hub, HF_HOME=str(home), HOME=str(home))
    res = run_process(
        "export", "hf", run, "--out", out, "--push-to-hub", "me/llava-mini", "--private", env=env, timeout=120
    )
    assert res.returncode == 0, res.stderr
    create = [r for r in FakeHub.requests if r["path"] == "/api/repos/create"]
    assert len(create) == 1
    body = json.loads(create[0]["body"])
    assert body["name"] == "llava-mini" and body["organization"] == "me"
    assert body["type"] == "dataset" and body["visibility"] == "private"
    # The token travels only as the bearer header ...
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in FakeHub.requests)
    assert not any(TOKEN.encode() in r["body"] for r in FakeHub.requests)
    # ... and the uploaded files are exactly the local export (card + parquet shard).
    local = _files(out)
    assert FakeHub.files == local
    (shard,) = set(local) - {"README.md"}
    fp = shard.removeprefix("data/train-00000-of-00001-").removesuffix(".parquet")
    assert len(fp) == 12 and f"(fingerprint {fp})" in res.stdout
    assert f"path: data/train-*-{fp}.parquet" in FakeHub.card_yaml
    # Never written anywhere, never printed.
    assert TOKEN.encode() not in _all_text_under(out) + _all_text_under(tmp_path / "run")
    assert TOKEN not in res.stdout + res.stderr
    assert not home.exists() or TOKEN.encode() not in _all_text_under(home)


def test_push_failure_is_one_line_without_token(tmp_path, coco_mini):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    # Nothing listens on port 9: the Hub is unreachable, as on this offline machine.
    env = _env(HF_TOKEN=TOKEN, HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "home"))
    res = run_process("export", "hf", run, "--out", out, "--push-to-hub", "me/x", env=env, timeout=120)
    assert res.returncode == 4
    assert res.stderr.startswith("Error: push to me/x failed:") and "Traceback" not in res.stderr
    assert "local export in" in res.stderr
    assert TOKEN not in res.stderr + res.stdout
    assert (out / "README.md").exists() and TOKEN.encode() not in _all_text_under(out)


def test_push_refused_offline_or_without_token(tmp_path, coco_mini, capsys, monkeypatch):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    args = ["export", "hf", str(run), "--out", str(out), "--push-to-hub", "me/x"]
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, stdout, err = run_cli(args, capsys)
    assert code == 3 and err.startswith("Error: cannot push to the Hub: HF_HUB_OFFLINE is set")
    assert not out.exists()  # checked before anything was written
    assert TOKEN not in stdout + err
    code, _, err = run_cli([*args, "--format", "arrow"], capsys)
    assert code == 2 and "--format parquet" in err
    code, _, err = run_cli(
        ["export", "hf", str(run), "--out", str(out), "--push-to-hub", "not-a-repo-id"], capsys
    )
    assert code == 2 and "not a repo id" in err
    # No HF_TOKEN and no login file (fresh HF_HOME): a clear error, before anything is written.
    res = run_process(*args, env=_env(HF_HOME=str(tmp_path / "home")), timeout=120)
    assert res.returncode == 3
    assert "Error: no Hugging Face token found" in res.stderr and "HF_TOKEN" in res.stderr
    assert not out.exists()


def test_push_uses_the_hf_login_token_file(tmp_path, coco_mini, fake_hub):
    """No HF_TOKEN: the token saved by `hf auth login` (HF_HOME/token) is used, and not copied anywhere."""
    run = coco_run(coco_mini, tmp_path / "run")
    home = tmp_path / "hfhome"
    home.mkdir()
    (home / "token").write_text(TOKEN)
    out = tmp_path / "hf"
    res = run_process(
        "export", "hf", run, "--out", out, "--push-to-hub", "me/y",
        env=_env(HF_ENDPOINT=fake_hub, HF_HOME=str(home)), timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert FakeHub.requests and all(r["auth"] == f"Bearer {TOKEN}" for r in FakeHub.requests)
    assert "visibility" not in json.loads(FakeHub.requests[0]["body"])  # not --private: the Hub's default
    assert TOKEN.encode() not in _all_text_under(out) and TOKEN not in res.stdout + res.stderr


def test_re_push_replaces_the_previous_shards(tmp_path, coco_mini, fake_hub):
    """A second export pushed to the same repo: the repo then holds exactly the new files, so a
    clone of it loads the new rows (the old fingerprinted shards are deleted in the same commit)."""
    recs = llava_records(coco_mini)
    env = _env(HF_TOKEN=TOKEN, HF_ENDPOINT=fake_hub, HF_HOME=str(tmp_path / "home"))
    out = tmp_path / "hf"
    FakeHub.files["notes.txt"] = b"the user's own file, outside data/"
    shards = []
    for name, rows, extra in (("a", recs[:3], ()), ("b", recs, ("--overwrite", "--by-task"))):
        run = coco_run(coco_mini, tmp_path / name, rows)
        res = run_process(
            "export", "hf", run, "--out", out, *extra, "--push-to-hub", "me/re", env=env, timeout=120
        )
        assert res.returncode == 0, res.stderr
        shards.append({p for p in FakeHub.files if p.startswith("data/")})
    assert shards[0] and not shards[0] & shards[1]  # new fingerprint, old shards gone
    assert FakeHub.files == {**_files(out), "notes.txt": b"the user's own file, outside data/"}
    deletes = [r for r in FakeHub.requests if "/commit/" in r["path"] and b'"deletedFile"' in r["body"]]
    assert len(deletes) == 1  # the first push had nothing to delete
    # What a clone of the repo gets, loaded with `datasets` in a fresh process: the second export.
    clone = tmp_path / "clone"
    for rel, data in FakeHub.files.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_bytes(data)
    code = (
        "import datasets, sys; d = datasets.load_dataset(sys.argv[1]);"
        "print({k: len(v) for k, v in d.items()})"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(clone)],
        env=_env(HF_HUB_OFFLINE="1", HF_DATASETS_CACHE=str(tmp_path / "cache")),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "{'conversation': 3, 'detail_description': 3, 'complex_reasoning': 3}"
