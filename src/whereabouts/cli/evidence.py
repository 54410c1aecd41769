"""`whereabouts key new`, `bundle`, `verify` and `validation`: parse, call, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

key_app = typer.Typer(help="The force's signing keys for evidence bundles.", no_args_is_help=True)


@key_app.command("new")
def key_new(
    out: Annotated[
        Path, typer.Option(help="Folder to write NAME.key (private, mode 0600) and NAME.pub into.")
    ],
    name: Annotated[str, typer.Option(help="The key's file name.")] = "whereabouts-signing",
) -> None:
    """Make an Ed25519 signing key pair (set WHEREABOUTS_KEY_PASSPHRASE to encrypt it)."""
    from whereabouts.evidence.keys import key_id, load_public, new_key

    private, public = new_key(out, name)
    _out.print(f"private key: {private} (mode 0600: keep it to the force; never in a bundle)")
    _out.print(f"public key:  {public} (give it to the other side with each bundle)")
    _out.print(f"key id:      {key_id(load_public(public))}")


def bundle(
    workspace: Annotated[Path, typer.Argument(help="The workspace folder.")],
    case: Annotated[str, typer.Option(help="Case reference: its latest run is bundled.")],
    out: Annotated[Path, typer.Option(help="A new folder, or a file name ending .zip.")],
    key: Annotated[
        Path,
        typer.Option(
            help="The force's private signing key (.key, mode 0600; from `whereabouts key new`)."
        ),
    ],
    sources: Annotated[
        list[Path] | None,
        typer.Option(
            help="A folder holding the original input files (matched by SHA-256); repeat for "
            "more. Inputs not found go in as their ingested rows."
        ),
    ] = None,
    max_source_mb: Annotated[
        float,
        typer.Option(
            help="Originals larger than this go in as their ingested rows within the case's "
            "scope instead."
        ),
    ] = 200.0,
    tsa: Annotated[
        str | None,
        typer.Option(help="URL of an RFC 3161 timestamp authority to timestamp the tag manifest."),
    ] = None,
    tsa_cert: Annotated[
        Path | None,
        typer.Option(
            help="The timestamp authority's root "
            "certificate (PEM): the token is checked "
            "against it and a copy kept in the "
            "bundle."
        ),
    ] = None,
    exhibit: Annotated[
        str | None,
        typer.Option(help="Exhibit reference for the report's exhibit block, e.g. JS/1."),
    ] = None,
    dated: Annotated[
        bool,
        typer.Option(
            help="State the date and time the report and "
            "bundle were made (then a rerun is not "
            "byte-identical)."
        ),
    ] = False,
    label_style: Annotated[
        str, typer.Option(help="Labels in the report: pc, officer, mr-ms.")
    ] = "pc",
    sign_pdf: Annotated[
        bool,
        typer.Option(
            "--sign-pdf", help="Also sign the report's PDF with the key (PAdES, needs pyHanko)."
        ),
    ] = False,
    user: Annotated[str | None, typer.Option(help="Act as this user.")] = None,
) -> None:
    """Seal a case's inputs, parameters, outputs, software and audit in a signed BagIt bundle."""
    from whereabouts.evidence.bundle import BundleOptions, make_bundle

    result = make_bundle(
        workspace,
        case,
        out,
        BundleOptions(
            key=key,
            sources=list(sources or []),
            max_source_mb=max_source_mb,
            tsa_url=tsa,
            tsa_cert=tsa_cert,
            exhibit=exhibit,
            dated=dated,
            label_style=label_style,
            sign_pdf=sign_pdf,
        ),
        user=user or "",
    )
    forms = ", ".join(f"{n} as {k}" for k, n in sorted(result.inputs.items()))
    _out.print(
        f"bundle of case {escape(case)}: {result.path} ({result.files} files; inputs: {forms})"
    )
    _out.print(
        f"signed by key {result.key_id[:16]}…; audit head seq "
        f"{result.audit_head['seq']} {result.audit_head['hash']}"
        + ("; timestamped" if result.timestamped else "")
    )


def verify(
    path: Annotated[Path, typer.Argument(help="The bundle: a folder or a .zip.")],
    key: Annotated[
        Path | None,
        typer.Option(
            help="The force's public key (.pub). Without "
            "it the copy in the bundle is used, which "
            "shows integrity, not who signed."
        ),
    ] = None,
    tsa_cert: Annotated[
        list[Path] | None,
        typer.Option(help="The timestamp authority's root certificate (PEM) to trust."),
    ] = None,
    no_rerun: Annotated[
        bool, typer.Option("--no-rerun", help="Check hashes, signature and timestamp only.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for tools.")] = False,
) -> None:
    """Check a bundle offline: hashes, signature, timestamp, re-run byte for byte, pymeos."""
    from whereabouts.evidence.verify import as_json as to_json
    from whereabouts.evidence.verify import summary_line, verify_bundle

    result = verify_bundle(path, key=key, tsa_roots=list(tsa_cert or []), rerun=not no_rerun)
    if as_json:
        print(to_json(result))
    else:
        for item in result.items:
            _out.print(item.line(), markup=False)
        _out.print(summary_line(result), markup=False)
    raise typer.Exit(0 if result.ok else 1)


def validation(
    out: Annotated[
        Path,
        typer.Option(help="Folder to write validation.html, validation.pdf and results.json into."),
    ],
    quick: Annotated[
        bool,
        typer.Option(
            help="One seed and the smallest set of tests (checks "
            "the report itself; not a validation)."
        ),
    ] = False,
    real_data: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the real recordings "
            "(default ../shared/data/real beside the "
            "repository)."
        ),
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")] = True,
) -> None:
    """Validate the method (FSR-G-201 shape): run the tests, measure, write the report."""
    from whereabouts.evidence.validation import run_validation

    result = run_validation(
        out, quick=quick, real_data=real_data, pdf=pdf, say=lambda m: _err.print(m, markup=False)
    )
    for c in result["criteria"]:
        state = {True: "met", False: "NOT MET", None: "not assessed"}[c.met]
        _out.print(f"{c.ref} {state}: {c.measured}", markup=False)
    _out.print(f"validation report in {out} ({result['seconds']:.0f} s)", markup=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.add_typer(key_app, name="key")
    app.command()(bundle)
    app.command()(verify)
    app.command()(validation)
