"""Evidence bundles on the real pipeline: the demo case bundled, its workspace deleted, and
`verify` run elsewhere; then one changed byte, a wrong key and a re-run that differs.

From a copy of the session's demo (conftest.py `demo_case`; the copy is deleted after
bundling): the demo case bundled with every original, a timestamp from a local authority
and a signed PDF; and a short case (the planted pair over the 3 hours around one of their
meetings, opened in the same workspace) bundled as a .zip with the inputs over 0.5 MB as
rows. Tests that change a bundle change a copy of one. Three checks re-run an analysis: the
demo case (with pymeos, the slow one), the short case, and a copy of it whose re-run
differs."""

from __future__ import annotations

import base64
import csv
import json
import shutil
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import bagit
import pytest
from typer.testing import CliRunner

from tsa import Authority, local_tsa
from whereabouts.analysis.investigate import investigate
from whereabouts.case import CaseStore
from whereabouts.cli import app
from whereabouts.evidence import BundleOptions, make_bundle, new_key, verify_bundle
from whereabouts.evidence import bag as bagmod
from whereabouts.evidence import statement as stmt
from whereabouts.evidence.keys import SigningKeyError, load_private, load_public
from whereabouts.evidence.verify import Verification, same_but_software
from whereabouts.io.files import file_sha256
from whereabouts.simulate.demo import DemoState
from whereabouts.store.runs import RunSummary

pytestmark = pytest.mark.slow


@dataclass
class Bundles:
    folder: Path  # originals for every input, an RFC 3161 timestamp and a signed PDF
    tsa: Authority  # the local authority that stamped it (stopped since: offline)
    rows_zip: Path  # a short case, the inputs over 0.5 MB as their in-scope rows
    key: Path
    public: Path
    other_public: Path
    case_ref: str
    sources: list[str]


@pytest.fixture(scope="module")
def bundles(demo_case: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Bundles:
    base = tmp_path_factory.mktemp("evidence")
    shutil.copytree(demo_case.out, base / "demo")  # the demo's workspace, case store, sources
    workspace, data = base / "demo" / "workspace", base / "demo" / "data"
    assert demo_case.case_ref is not None
    key, public = new_key(base / "keys", "force")
    _, other = new_key(base / "keys", "someone-else")
    with local_tsa(base / "tsa") as tsa:
        folder = make_bundle(
            workspace,
            demo_case.case_ref,
            base / "sealed" / "bundle",
            BundleOptions(
                key=key, sources=[data], tsa_url=tsa.url, tsa_cert=tsa.root, sign_pdf=True
            ),
        ).path
    short = _short_case(workspace, data, demo_case)
    rows = make_bundle(
        workspace,
        short,
        base / "sealed" / "rows.zip",
        BundleOptions(key=key, sources=[data], max_source_mb=0.5),
    ).path
    names = sorted(p.name for p in data.rglob("*") if p.is_file() and "truth" not in p.parts)
    shutil.rmtree(base / "demo")  # the workspace, case store and sources are gone
    return Bundles(folder, tsa, rows, key, public, other, demo_case.case_ref, names)


def _short_case(workspace: Path, data: Path, demo: DemoState) -> str:
    """A case of the planted pair over the 3 hours around their first planted meeting,
    investigated (no baseline) as its run: a small re-run for the rows bundle."""
    assert demo.simulation is not None
    pair = sorted(demo.simulation.cast["meeting_pair"])
    with (data / "truth" / "occasions.csv").open(encoding="utf-8") as fh:
        meeting = next(
            r
            for r in csv.DictReader(fh)
            if r["kind"] in ("remote_meeting", "home_meeting")
            and sorted((r["officer_a"], r["officer_b"])) == pair
        )
    start = datetime.fromisoformat(meeting["start"]) - timedelta(hours=1)
    end = datetime.fromisoformat(meeting["end"]) + timedelta(hours=1)
    store = CaseStore.open(workspace)
    try:
        user = store.current_user()
        case = store.open_case(
            "SHORT-1", pair, start, end, "tests: a short case", legal_basis="uk_gdpr", actor=user
        )
        store.record_read(user, case.ref, pair, start, end, what="occasions", action="analysis.run")
    finally:
        store.close()
    result = investigate(workspace, pair, start, end, case=case.ref, save=True, baseline="none")
    assert result.occasions.num_rows >= 1
    return case.ref


def _copy(src: Path, tmp: Path) -> Path:
    target = tmp / "elsewhere" / src.name
    target.parent.mkdir(parents=True)
    (shutil.copytree if src.is_dir() else shutil.copyfile)(src, target)
    return target


def _fails(result: Verification) -> dict[str, str]:
    return {i.what: i.words for i in result.items if i.verdict == "fails"}


def test_bundle_is_a_valid_bagit_bag_without_the_label_key(bundles: Bundles) -> None:
    bag = bagit.Bag(str(bundles.folder))
    bag.validate()  # raises on any missing or changed file
    files = {
        p.relative_to(bundles.folder).as_posix() for p in bundles.folder.rglob("*") if p.is_file()
    }
    assert "statement.dsse.json" in files and "tagmanifest-sha256.txt" in files
    assert not any("key" in Path(f).name and f.endswith(".csv") for f in files)
    assert not any(f.endswith(".key") for f in files)
    for name in (
        "occasions.parquet",
        "tracks.parquet",
        "stops.parquet",
        "baseline.parquet",
        "summary.json",
    ):
        assert f"data/outputs/run/{name}" in files
    assert {"data/outputs/report/report.html", "data/outputs/report/report.pdf"} <= files
    bundled = {Path(f).name for f in files if f.startswith("data/inputs/")}
    assert set(bundles.sources) <= bundled  # every source file's original bytes
    software = json.loads((bundles.folder / "data/software.json").read_text())
    assert software["packages"]["pyarrow"]["version"]
    assert len(software["whereabouts"]["source_sha256"]) == 64
    # the run's own record of the software that ran it, made with the run
    summary = json.loads((bundles.folder / "data/outputs/run/summary.json").read_text())
    assert summary["software"]["whereabouts"] == software["whereabouts"]
    assert summary["software"]["packages"]["pyarrow"] == software["packages"]["pyarrow"]["version"]


def test_statement_names_outputs_as_subjects_and_inputs_in_the_predicate(bundles: Bundles) -> None:
    body = stmt.verify(
        (bundles.folder / "statement.dsse.json").read_bytes(),
        load_public(bundles.public),
        "statement",
    )
    assert body["_type"] == "https://in-toto.io/Statement/v1"
    manifest = bagmod.read_manifest(bundles.folder / bagmod.MANIFEST, [], bundles.folder)
    subjects = {s["name"]: s["digest"]["sha256"] for s in body["subject"]}
    assert subjects and all(n.startswith("data/outputs/") for n in subjects)
    assert all(manifest[n] == d for n, d in subjects.items())
    pred = body["predicate"]
    assert {i["name"] for i in pred["inputs"]} == set(bundles.sources)
    assert pred["parameters"]["analysis"]["distance_m"] == 100.0
    assert pred["auditHead"]["seq"] > 0 and len(pred["auditHead"]["hash"]) == 64
    html = (bundles.folder / "data/outputs/report/report.html").read_text(encoding="utf-8")
    block = html[html.index("<h3>Exhibit</h3>") :]
    block = block[: block.index("</section>")]
    assert pred["auditHead"]["statement"] in block  # "audit head SEQ:HASH"
    assert "in an evidence bundle signed with the force" in block
    assert "not stated, so that re-running gives an identical report" in block


def test_demo_bundle_verifies_elsewhere_without_the_workspace(
    bundles: Bundles, tmp_path: Path
) -> None:
    copy = _copy(bundles.folder, tmp_path)
    result = CliRunner().invoke(app, ["verify", str(copy), "--key", str(bundles.public)])
    assert result.exit_code == 0, result.output
    assert "VERDICT: every check holds" in result.output
    assert "FAILS" not in result.output
    for name in ("run/occasions.parquet", "run/summary.json", "report/report.pdf"):
        assert f"HOLDS  output {name}: identical byte for byte" in result.output
    assert result.output.count("engine and pymeos agree") >= 3
    assert "HOLDS  software: the analysis ran with the same software as this verifier" in (
        result.output
    )
    assert "HOLDS  timestamp: the tag manifest existed at" in result.output
    assert "HOLDS  output report/report.signed.pdf: PAdES signature intact" in result.output


def test_rows_bundle_in_a_zip_verifies_byte_for_byte(bundles: Bundles, tmp_path: Path) -> None:
    copy = _copy(bundles.rows_zip, tmp_path)
    result = verify_bundle(copy, key=bundles.public, oracle=False)  # pymeos: the demo test
    assert result.ok, [i.line() for i in result.failures()]
    words = {i.what: i.words for i in result.items}
    assert "ingested rows placed as bundled" in words["input lip.csv"]
    assert "re-ingested" in words["input officers.csv"]
    inputs = json.loads(
        Path(bagmod.unzip_bag(copy, tmp_path / "x") / "data/inputs/inputs.json").read_text()
    )
    rows = [i for i in inputs if i["form"] == "rows"]  # every input over 0.5 MB
    assert {"lip.csv", "fixes.parquet"} <= {i["name"] for i in rows}
    assert all("SHA-256" in i["note"] for i in rows)
    for i in rows:  # fixes cut to the run's scope; other tables whole
        if i["table"] == "fixes":
            assert 0 < i["rows"] < i["counts"]["accepted"], i["name"]
        else:
            assert i["rows"] == i["counts"]["accepted"], i["name"]


@pytest.mark.parametrize(
    "target",
    [
        "data/inputs/*/officers.csv",
        "data/outputs/run/summary.json",
        "bag-info.txt",
        "manifest-sha256.txt",
        "statement.dsse.json",
    ],
)
def test_one_changed_byte_fails_and_is_named(bundles: Bundles, tmp_path: Path, target: str) -> None:
    copy = _copy(bundles.folder, tmp_path)
    path = next(copy.glob(target))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify_bundle(copy, key=bundles.public, rerun=False)
    assert not result.ok
    rel = path.relative_to(copy).as_posix()
    fails = _fails(result)
    assert any(rel in what for what in fails) or (
        rel == "statement.dsse.json" and "signature" in fails
    ), fails


def test_cli_exits_1_and_names_a_changed_output(bundles: Bundles, tmp_path: Path) -> None:
    copy = _copy(bundles.folder, tmp_path)
    path = copy / "data/outputs/run/occasions.parquet"
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(
        app, ["verify", str(copy), "--key", str(bundles.public), "--no-rerun"]
    )
    assert result.exit_code == 1
    assert "FAILS  file data/outputs/run/occasions.parquet: changed" in result.output
    assert "VERDICT:" in result.output and "checks fail" in result.output


def test_wrong_public_key_fails(bundles: Bundles, tmp_path: Path) -> None:
    result = verify_bundle(bundles.folder, key=bundles.other_public, rerun=False)
    assert not result.ok
    assert "not signed by the key given" in _fails(result)["signature"]


def _reseal(root: Path, key: Path) -> None:
    """Re-hash and re-sign a bundle after a change, as a forger with the key could (but
    not the timestamp authority's: a timestamp is dropped)."""
    for name in ("timestamp.tsr", "timestamp-root.pem"):
        (root / name).unlink(missing_ok=True)
    files = [p for p in sorted((root / "data").rglob("*")) if p.is_file()]
    digests = {p.relative_to(root).as_posix(): file_sha256(p) for p in files}
    info = (root / "bag-info.txt").read_text().splitlines()
    oxum = f"Payload-Oxum: {sum(p.stat().st_size for p in files)}.{len(files)}"
    (root / "bag-info.txt").write_text(
        "\n".join(oxum if line.startswith("Payload-Oxum:") else line for line in info) + "\n"
    )
    (root / bagmod.MANIFEST).write_text("".join(f"{h}  {n}\n" for n, h in sorted(digests.items())))
    envelope = json.loads((root / "statement.dsse.json").read_text())
    body = json.loads(base64.b64decode(envelope["payload"]))
    for s in body["subject"]:
        s["digest"]["sha256"] = digests[s["name"]]
    (root / "statement.dsse.json").write_bytes(stmt.sign(body, load_private(key)))
    tags = ["bagit.txt", "bag-info.txt", bagmod.MANIFEST, "statement.dsse.json", "signer.pub"]
    (root / bagmod.TAGMANIFEST).write_text(
        "".join(f"{file_sha256(root / n)}  {n}\n" for n in sorted(tags))
    )


def test_a_rerun_that_differs_fails_naming_the_first_differing_output(
    bundles: Bundles, tmp_path: Path
) -> None:
    copy = bagmod.unzip_bag(_copy(bundles.rows_zip, tmp_path), tmp_path / "unzipped")
    csv = copy / "data/outputs/run/occasions.csv"
    head, _, rows = csv.read_text().partition("\n")
    i = next(i for i, c in enumerate(rows) if c.isdigit())  # one digit of the first row
    csv.write_text(f"{head}\n{rows[:i]}{(int(rows[i]) + 1) % 10}{rows[i + 1 :]}")
    # and the run as if made by other software: verify says so, and summary.json still
    # compares the same but for that record
    summary = copy / "data/outputs/run/summary.json"
    data = json.loads(summary.read_text())
    data["software"]["packages"]["numpy"] = "0.0.1"
    data["software"]["whereabouts"]["source_sha256"] = "0" * 64
    summary.write_text(RunSummary.from_json(data).to_text())
    _reseal(copy, bundles.key)
    result = verify_bundle(copy, key=bundles.public, oracle=False)
    fails = _fails(result)
    assert list(fails) == ["output run/occasions.csv"], fails  # hashes and signature hold
    assert result.first_difference == "run/occasions.csv"
    assert "the re-run differs from byte" in fails["output run/occasions.csv"]
    words = {i.what: (i.verdict, i.words) for i in result.items}
    verdict, said = words["software"]
    assert verdict == "note" and said.startswith(
        "the software verifying differs from the software that ran the analysis"
    )
    assert "numpy (0.0.1 → " in said and "other source files" in said
    assert words["output run/summary.json"][0] == "holds"
    assert "but for its record of the software" in words["output run/summary.json"][1]
    assert "software of the bundle" in words  # bundled by this software, not the run's


def test_a_run_that_recorded_no_software_is_said_so(bundles: Bundles, tmp_path: Path) -> None:
    copy = _copy(bundles.folder, tmp_path)  # as a run made before summary format 2
    summary = copy / "data/outputs/run/summary.json"
    data = json.loads(summary.read_text())
    del data["software"]
    summary.write_text(RunSummary.from_json(data).to_text())
    _reseal(copy, bundles.key)
    result = verify_bundle(copy, key=bundles.public, rerun=False)
    assert result.ok, [i.line() for i in result.failures()]
    item = next(i for i in result.items if i.what == "software")
    assert item.verdict == "note" and "did not record the software that ran it" in item.words
    assert "the same as this verifier" in item.words  # the bundling software, compared


def test_summary_compared_but_for_its_software_only_when_nothing_else_differs(
    bundles: Bundles,
) -> None:
    text = (bundles.folder / "data/outputs/run/summary.json").read_bytes()
    data = json.loads(text)
    other = {**data, "software": {**data["software"], "python": "2.7.18"}}
    remade = RunSummary.from_json(other).to_text().encode()
    assert remade != text and same_but_software(text, remade)
    other["params"] = {**other["params"], "distance_m": 50.0}
    assert not same_but_software(text, RunSummary.from_json(other).to_text().encode())
    assert not same_but_software(text, text)


def test_private_key_permissions_are_checked(tmp_path: Path) -> None:
    private, _ = new_key(tmp_path, "k")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    load_private(private)
    private.chmod(0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        load_private(private)
    with pytest.raises(SigningKeyError, match="never overwritten"):
        new_key(tmp_path, "k")
    result = CliRunner().invoke(
        app, ["key", "new", "--out", str(tmp_path / "cli"), "--name", "psd"]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "cli" / "psd.key").stat().st_mode) == 0o600


def test_encrypted_key_needs_its_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHEREABOUTS_KEY_PASSPHRASE", "correct horse")
    private, _ = new_key(tmp_path, "enc")
    assert b"ENCRYPTED" in private.read_bytes()
    load_private(private)
    monkeypatch.delenv("WHEREABOUTS_KEY_PASSPHRASE")
    with pytest.raises(SigningKeyError, match="passphrase"):
        load_private(private)


def test_timestamp_from_a_local_authority_verifies_offline(
    bundles: Bundles, tmp_path: Path
) -> None:
    copy = _copy(bundles.folder, tmp_path)  # the authority has stopped: offline
    given = verify_bundle(copy, key=bundles.public, tsa_roots=[bundles.tsa.root], rerun=False)
    assert given.ok, [i.line() for i in given.failures()]
    words = {i.what: i.words for i in given.items}
    assert "Test Timestamp Authority" in words["timestamp"]
    assert "root certificate given" in words["timestamp"]
    carried = verify_bundle(copy, key=bundles.public, rerun=False)
    assert (
        carried.ok
        and "carried in the bundle" in {i.what: i.words for i in carried.items}["timestamp"]
    )
    wrong = verify_bundle(copy, key=bundles.public, tsa_roots=[bundles.tsa.other_root], rerun=False)
    assert "timestamp" in _fails(wrong)
    manifest = copy / "tagmanifest-sha256.txt"
    manifest.write_text(manifest.read_text() + "\n")
    changed = _fails(verify_bundle(copy, key=bundles.public, rerun=False))
    assert "not over this tag manifest" in changed["timestamp"]


def test_signed_pdf_holds_and_a_changed_byte_in_it_fails(bundles: Bundles, tmp_path: Path) -> None:
    copy = _copy(bundles.folder, tmp_path)
    ok = {i.what: i for i in verify_bundle(copy, key=bundles.public, rerun=False).items}
    item = ok["output report/report.signed.pdf"]
    assert item.verdict == "holds" and "PAdES signature intact" in item.words
    signed = copy / "data/outputs/report/report.signed.pdf"
    unsigned = (copy / "data/outputs/report/report.pdf").read_bytes()
    data = bytearray(signed.read_bytes())
    assert bytes(data[: len(unsigned)]) == unsigned  # an incremental update of the same PDF
    data[len(unsigned) // 2] ^= 0x01
    signed.write_bytes(bytes(data))
    fails = _fails(verify_bundle(copy, key=bundles.public, rerun=False))
    assert "does not begin with the bundled report PDF" in fails["output report/report.signed.pdf"]
