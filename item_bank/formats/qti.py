"""IMS QTI 3.0 / 2.1: read one assessment item XML or a content package ZIP; write content packages.

Both versions are read through one code path: a 3.0 tree is renamed to the 2.1 vocabulary first
(``qti-choice-interaction`` -> ``choiceInteraction``, ``response-identifier`` ->
``responseIdentifier``), namespaces are dropped, and the item is then interpreted by interaction
kind (see :mod:`item_bank.formats.qti_read`); writing is in :mod:`item_bank.formats.qti_write`.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from item_bank.formats.archive import ReadLimits, SafeArchive
from item_bank.formats.common import MAX_ITEMS, check_size, parse_xml
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport, MediaFile
from item_bank.formats.qti_read import NoMedia, convert_item, local_name, qti_version
from item_bank.formats.qti_write import write_qti

__all__ = ["read_qti", "write_qti"]


def read_qti(data: bytes, filename: str = "", limits: ReadLimits | None = None) -> ImportReport:
    """Read a QTI 3.0/2.1 item file or content package; raises FormatError if it is unreadable."""
    what = filename or "QTI file"
    check_size(data, what)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _read_package(data, what, limits or ReadLimits())
    root = parse_xml(data, what)
    version = qti_version(root)
    if version is None:
        raise FormatError(f"{what}: not a QTI assessment item (root element <{local_name(root.tag)}>)")
    report = ImportReport(format="qti")
    report.outcomes.append(convert_item(0, root, version, filename, NoMedia(), ([], [])))
    return report


# -- content packages ---------------------------------------------------------------------------


@dataclass
class _Resource:
    href: str
    files: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    knowledge_points: list[tuple[str, ...]] = field(default_factory=list)


class _Package:
    def __init__(self, archive: SafeArchive) -> None:
        self.archive = archive
        self.members = archive.members

    def read(self, path: str) -> bytes:
        return self.archive.read(path)

    def media(self, path: str) -> MediaFile | None:
        if path not in self.members:
            return None
        name = posixpath.basename(path)
        return MediaFile(name, mimetypes.guess_type(name)[0] or "application/octet-stream", self.read(path))


class _PackageMedia:
    """Resolves image sources relative to the item file inside the package."""

    def __init__(self, package: _Package, item_path: str) -> None:
        self.package = package
        self.folder = posixpath.dirname(item_path)

    def find(self, src: str) -> MediaFile | None:
        if "://" in src or src.startswith(("data:", "/")):
            return None
        return self.package.media(posixpath.normpath(posixpath.join(self.folder, unquote(src))))

    def missing(self, src: str) -> str:
        return f"image {src!r} is not in the package; the reference was kept without the file"


def _read_package(data: bytes, what: str, limits: ReadLimits) -> ImportReport:
    with SafeArchive(data, what, limits) as archive:
        package = _Package(archive)
        resources = _resources(package)
        if not resources:
            raise FormatError(f"{what}: no QTI assessment items in the package")
        if len(resources) > MAX_ITEMS:
            raise FormatError(f"{what}: {len(resources)} items; the limit is {MAX_ITEMS}")
        report = ImportReport(format="qti")
        for index, resource in enumerate(resources):
            report.outcomes.append(_package_item(package, index, resource))
    return report


def _package_item(package: _Package, index: int, resource: _Resource) -> ImportOutcome:
    path = resource.href
    if path not in package.members:
        return ImportOutcome(index, path, "rejected", [f"{path}: listed in imsmanifest.xml but not in the package"])
    try:
        root = parse_xml(package.read(path), path)
    except FormatError as exc:
        return ImportOutcome(index, path, "rejected", [exc.detail])
    version = qti_version(root)
    if version is None:
        return ImportOutcome(index, path, "rejected", [f"{path}: not a QTI assessment item"])
    extra = [m for m in (package.media(f) for f in resource.files if f != path and not f.endswith(".xml")) if m]
    metadata = (resource.tags, resource.knowledge_points)
    outcome = convert_item(index, root, version, path, _PackageMedia(package, path), metadata)
    if outcome.draft is not None:
        for media in extra:  # files the manifest lists for the item but its body does not show
            if all(m.name != media.name for m in outcome.draft.media):
                outcome.draft.media.append(media)
    return outcome


def _resources(package: _Package) -> list[_Resource]:
    manifests = sorted((p for p in package.members if posixpath.basename(p) == "imsmanifest.xml"),
                       key=lambda p: p.count("/"))
    if not manifests:  # no manifest: every XML file that is an item, in name order
        return [_Resource(p) for p in sorted(package.members) if p.endswith(".xml")]
    base = posixpath.dirname(manifests[0])
    root = parse_xml(package.read(manifests[0]), manifests[0])
    resources = {r.get("identifier", ""): r for r in _iter_local(root, "resource")}
    found: list[_Resource] = []
    for element in resources.values():
        if "imsqti_item" not in element.get("type", "") or not element.get("href"):
            continue
        resource = _Resource(_join(base, element.get("href", "")))
        resource.files = _files(element, resources, base)
        resource.tags, resource.knowledge_points = _lom(element)
        found.append(resource)
    return found


def _join(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(href)))


def _files(resource: Element, resources: dict[str, Element], base: str) -> list[str]:
    files = [_join(base, f.get("href", "")) for f in _iter_local(resource, "file") if f.get("href")]
    for dependency in _iter_local(resource, "dependency"):
        target = resources.get(dependency.get("identifierref", ""))
        if target is not None and "imsqti_item" not in target.get("type", ""):
            files += [_join(base, f.get("href", "")) for f in _iter_local(target, "file") if f.get("href")]
    return files


def _iter_local(root: Element, name: str) -> Iterator[Element]:
    return (e for e in root.iter() if isinstance(e.tag, str) and local_name(e.tag) == name)


def _strings(element: Element) -> list[str]:
    return [(s.text or "").strip() for s in _iter_local(element, "string") if (s.text or "").strip()]


def _lom(resource: Element) -> tuple[list[str], list[tuple[str, ...]]]:
    """LOM keywords -> tags; classification taxon paths -> knowledge points."""
    tags = [text for keyword in _iter_local(resource, "keyword") for text in _strings(keyword)]
    paths: list[tuple[str, ...]] = []
    for taxon_path in _iter_local(resource, "taxonPath"):
        path = tuple(text for entry in _iter_local(taxon_path, "entry") for text in _strings(entry)[:1])
        if path:
            paths.append(path)
    return tags, paths
