"""Provenance: every colorized output says that a network guessed its colours, and how.

The record (``Provenance``) goes into the output's XMP packet (``docs/hints.md`` lists
where each format keeps it) in colorgui's own namespace, beside the IPTC digital source
type that marks media made with a trained algorithm (``compositeWithTrainedAlgorithmicMedia``:
a real photograph, its colours added by a model), and ``xmp:CreatorTool``; the EXIF
Software tag names colorgui too, for tools that read no XMP. The photo's own EXIF (camera,
dates) and ICC profile are kept. No Qt and no torch: the batch and the CLI use it.
"""

from __future__ import annotations

import datetime
import functools
import os
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from PIL import Image

from model.io.imageio import ImageReadError, read_xmp
from model.io.sidecar import content_hash

NAMESPACE = "http://ns.colorgui.org/provenance/1.0/"
AI_SOURCE_TYPE = ("http://cv.iptc.org/newscodes/digitalsourcetype/"
                  "compositeWithTrainedAlgorithmicMedia")
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SOFTWARE_TAG = 0x0131  # EXIF/TIFF Software
# the record's fields as XMP properties (colorgui:NAME), in the order ``lines`` shows them
_FIELDS = (("version", "Version"), ("model", "Model"), ("model_sha256", "ModelSHA256"),
           ("saturation", "Saturation"), ("vivid", "Vivid"), ("hints", "Hints"),
           ("date", "Date"))


def software_version() -> str:
    """colorgui's version, from the installed package's metadata (``model`` may not
    import ``colorgui``); "unknown" where a build carries no metadata."""
    try:
        return metadata.version("colorgui")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=8)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return content_hash(path)[:12]


def model_digest(path: os.PathLike | str) -> str:
    """The first 12 hex digits of a model file's SHA-256, hashed once per file version
    (not once per photo); "" if the file cannot be read."""
    try:
        st = os.stat(path)
        return _digest(str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return ""


def model_name(path: os.PathLike | str) -> str:
    """A bundled model's short name ("spatial", "paper"), else the file's stem (which is
    the name of a model the user fine-tuned)."""
    from resources import BUNDLED_MODELS

    path = Path(path).resolve()
    return next((name for name, p in BUNDLED_MODELS.items() if p.resolve() == path), path.stem)


def edits_model(checkpoint: os.PathLike | str | None) -> str | None:
    """A photo's edits' ``model`` (``model.io.sidecar.Edits``) for the model colorizing
    from ``checkpoint``: its ``model_name``, None for the bundled default."""
    from resources import BUNDLED_MODEL

    if checkpoint is None or Path(checkpoint).resolve() == BUNDLED_MODEL.resolve():
        return None
    return model_name(checkpoint)


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Provenance:
    """How an output was made."""

    version: str            # colorgui's
    model: str              # ``model_name``, or "in-memory model"
    model_sha256: str       # first 12 hex digits of the model file's SHA-256 ("": unknown)
    saturation: float
    vivid: float | None     # None: the model has no vivid setting
    hints: int = 0          # colour hints given
    date: str = ""          # when the output was written, ISO 8601 with the UTC offset

    def for_photo(self, hints: int, saturation: float | None = None,
                  vivid: float | None = None) -> Provenance:
        """This record for one photo written now with ``hints`` hints (and at
        ``saturation`` and ``vivid``, where the photo's own differ from the batch's)."""
        return replace(self, hints=hints, date=_now(),
                       saturation=self.saturation if saturation is None else float(saturation),
                       vivid=self.vivid if vivid is None or self.vivid is None else float(vivid))

    def lines(self) -> list[str]:
        """The record in words, one field a line (``colorgui info``, the app)."""
        model = self.model + (f" (SHA-256 {self.model_sha256}…)" if self.model_sha256 else "")
        return [f"colorized by colorgui {self.version}: its colours are an AI's guess",
                f"model: {model}",
                f"saturation: {self.saturation:g}",
                f"vivid: {'-' if self.vivid is None else f'{self.vivid:g}'}",
                f"colour hints: {self.hints}",
                f"date: {self.date}"]

    def to_xmp(self) -> bytes:
        """An XMP packet holding the record."""
        props = "".join(f"\n    colorgui:{prop}={quoteattr(str(getattr(self, field)))}"
                        for field, prop in _FIELDS if getattr(self, field) is not None)
        return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
                f'<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
                f' <rdf:RDF xmlns:rdf="{_RDF}">\n'
                f'  <rdf:Description rdf:about=""\n'
                f'    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
                f'    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
                f'    xmlns:colorgui="{NAMESPACE}"\n'
                f'    xmp:CreatorTool={quoteattr(f"colorgui {self.version}")}\n'
                f'    Iptc4xmpExt:DigitalSourceType="{AI_SOURCE_TYPE}"{props}/>\n'
                f' </rdf:RDF>\n'
                f'</x:xmpmeta>\n'
                f'<?xpacket end="w"?>').encode("utf-8")

    @classmethod
    def from_xmp(cls, xmp: bytes) -> Provenance | None:
        """The record in an XMP packet; None if it holds none (or is not XML). Reads the
        properties as attributes (as written) or as elements (as some tools rewrite them)."""
        try:
            root = ElementTree.fromstring(xmp)
        except ElementTree.ParseError:
            return None
        for desc in root.iter(f"{{{_RDF}}}Description"):
            values = {}
            for field, prop in _FIELDS:
                key = f"{{{NAMESPACE}}}{prop}"
                element = desc.find(key)
                values[field] = desc.get(key, element.text if element is not None else None)
            if values["version"] is None:
                continue
            try:
                return cls(values["version"], values["model"] or "", values["model_sha256"] or "",
                           float(values["saturation"] or 1.0),
                           None if values["vivid"] is None else float(values["vivid"]),
                           int(values["hints"] or 0), values["date"] or "")
            except ValueError:
                return None
        return None


def provenance_for(colorizer, saturation: float | None, hints: int = 0) -> Provenance:
    """The record for outputs of ``colorizer`` (a ``model.colorizer.Colorizer``) at this
    saturation (None: each photo's own, 1.0 until a photo says), dated now; the model file
    is hashed once, however many photos follow."""
    saturation = 1.0 if saturation is None else saturation
    path = getattr(colorizer, "checkpoint", None)
    name, digest = (model_name(path), model_digest(path)) if path else ("in-memory model", "")
    vivid = float(colorizer.vivid) if getattr(colorizer, "has_vivid", False) else None
    return Provenance(software_version(), name, digest, float(saturation), vivid, hints, _now())


def marked_exif(exif: bytes | None, provenance: Provenance) -> bytes:
    """The photo's EXIF (camera, dates… kept) with Software naming colorgui."""
    marked = Image.Exif()
    if exif:
        marked.load(exif)
    marked[SOFTWARE_TAG] = f"colorgui {provenance.version}"
    return marked.tobytes()


_XMP_NS = "http://ns.adobe.com/xap/1.0/"
_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
# the prefixes a photo's XMP usually has, kept as they were when its packet is written again
for _prefix, _uri in (("x", "adobe:ns:meta/"), ("rdf", _RDF), ("xmp", _XMP_NS),
                      ("Iptc4xmpExt", _IPTC_EXT), ("colorgui", NAMESPACE),
                      ("dc", "http://purl.org/dc/elements/1.1/"),
                      ("photoshop", "http://ns.adobe.com/photoshop/1.0/"),
                      ("xmpRights", "http://ns.adobe.com/xap/1.0/rights/"),
                      ("lr", "http://ns.adobe.com/lightroom/1.0/"),
                      ("digiKam", "http://www.digikam.org/ns/1.0/"),
                      ("mwg-rs", "http://www.metadataworkinggroup.com/schemas/regions/"),
                      ("exif", "http://ns.adobe.com/exif/1.0/"),
                      ("tiff", "http://ns.adobe.com/tiff/1.0/"),
                      ("xmpMM", "http://ns.adobe.com/xap/1.0/mm/")):
    ElementTree.register_namespace(_prefix, _uri)


def output_xmp(own: bytes | None, provenance: Provenance | None) -> bytes | None:
    """The XMP packet an output keeps: the photo's own (its captions, keywords, people),
    without an earlier colorgui record, and with ``provenance``'s where given (which then
    also says what made the output and how: those properties of the photo's own go). A
    photo's packet that is not XML is not kept."""
    ours = provenance.to_xmp() if provenance is not None else None
    if not own:
        return ours
    try:
        root = ElementTree.fromstring(own)
    except ElementTree.ParseError:
        return ours
    rdf = root if root.tag == f"{{{_RDF}}}RDF" else root.find(f".//{{{_RDF}}}RDF")
    if rdf is None:
        return ours
    replaced = {f"{{{_XMP_NS}}}CreatorTool", f"{{{_IPTC_EXT}}}DigitalSourceType"} if ours else set()
    for desc in list(rdf.findall(f"{{{_RDF}}}Description")):
        for key in [k for k in desc.attrib if k in replaced or k.startswith(f"{{{NAMESPACE}}}")]:
            del desc.attrib[key]
        for child in [c for c in desc if c.tag in replaced or c.tag.startswith(f"{{{NAMESPACE}}}")]:
            desc.remove(child)
        if not len(desc) and set(desc.attrib) <= {f"{{{_RDF}}}about"}:
            rdf.remove(desc)  # nothing left of it (an earlier colorgui record)
    if ours:
        rdf.extend(ElementTree.fromstring(ours).find(f".//{{{_RDF}}}RDF"))
    if not len(rdf):
        return None
    body = ElementTree.tostring(root, encoding="unicode")
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n'
            f'<?xpacket end="w"?>').encode("utf-8")


def read_provenance(path: os.PathLike | str) -> Provenance | None:
    """The provenance an output holds, or None (an ordinary photo); ``ImageReadError``
    naming the file if it cannot be read."""
    xmp = read_xmp(path)
    return Provenance.from_xmp(xmp) if xmp else None


def maybe_an_original(target: os.PathLike | str, photo: os.PathLike | str) -> bool:
    """Whether the existing file ``target``, where something made from ``photo`` would go
    (its colour, a print cut from a page), may be a photo of the user's rather than an
    earlier output: it lies in the photo's own folder (``-o`` there, with another format:
    a.jpg's output a.png was the user's other a.png; scan_01.png beside scan.png) without
    colorgui's mark. ``--overwrite`` replaces earlier outputs, never originals; a print
    carries no mark, so one beside its page is kept too."""
    if Path(target).parent.resolve() != Path(photo).parent.resolve():
        return False
    try:
        return read_provenance(target) is None
    except ImageReadError:
        return True
