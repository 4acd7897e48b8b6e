"""Retrieval of knowledge passages from the Chroma index.

Also the one place that opens the index (embedded ``chromadb.PersistentClient``
in ``settings.index_dir``, or ``chromadb.HttpClient`` when
``settings.chroma_url`` is set), shared with :mod:`companion.ingest`.

Relevance is cosine similarity of the normalised MiniLM vectors
(``1 - cosine distance``), clamped to 0..1. Passages below
``settings.retrieval_min_relevance`` are never returned: the pipeline then
answers without citations.

Privacy: query text is never logged (only counts and timings).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from companion.settings import Settings, disable_telemetry

if TYPE_CHECKING:  # pragma: no cover
    from langchain_chroma import Chroma

__all__ = [
    "IndexUnavailable",
    "Passage",
    "Retriever",
    "REBUILD_HINT",
    "COLLECTION_CONFIGURATION",
    "chroma_client",
    "open_vectorstore",
    "forget_client",
]

log = logging.getLogger(__name__)

REBUILD_HINT = "run `companion ingest --rebuild` to rebuild it from the knowledge files"

#: Cosine distance on the HNSW index (chromadb 1.x configuration form).
COLLECTION_CONFIGURATION: dict[str, Any] = {"hnsw": {"space": "cosine"}}


class IndexUnavailable(RuntimeError):
    """The knowledge index cannot be opened or read (corrupt files, an
    incompatible Chroma version, an unreachable Chroma server). The message
    says what to do."""


def _describe(settings: Settings) -> str:
    return f"Chroma server {settings.chroma_url}" if settings.chroma_url else f"index at {settings.index_dir}"


def _unavailable(settings: Settings, exc: BaseException) -> IndexUnavailable:
    if settings.chroma_url:
        msg = (f"The knowledge index on the Chroma server {settings.chroma_url} is unavailable "
               f"({exc.__class__.__name__}: {exc}). Check that the server runs, or {REBUILD_HINT}.")
    else:
        msg = (f"The knowledge index at {settings.index_dir} cannot be read "
               f"({exc.__class__.__name__}: {exc}); it may be corrupt or from another Chroma version. "
               f"To fix it, {REBUILD_HINT}.")
    return IndexUnavailable(msg)


def chroma_client(settings: Settings, *, create: bool = True) -> Any:
    """A Chroma client for ``settings`` with telemetry off.

    Embedded mode: ``PersistentClient(settings.index_dir)``; when ``create`` is
    False and the folder does not exist, returns None (an empty index).
    Server mode: ``HttpClient`` for ``settings.chroma_url`` (http[s]://host[:port]).
    Raises :class:`IndexUnavailable` when the store cannot be opened.
    """
    disable_telemetry()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            url = urlsplit(settings.chroma_url)
            ssl = url.scheme == "https"
            return chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if ssl else 8000),
                ssl=ssl,
                settings=chroma_settings,
            )
        index_dir: Path = settings.index_dir
        if not create and not index_dir.exists():
            return None
        index_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(index_dir), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001 - chroma raises many types for a bad store
        raise _unavailable(settings, exc) from exc


def forget_client(settings: Settings) -> None:
    """Drop chromadb's in-process cache of clients (needed before the index
    folder is deleted and recreated in the same process)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:  # pragma: no cover - older layout
        from chromadb.api.client import SharedSystemClient  # type: ignore[no-redef]
    SharedSystemClient.clear_system_cache()


def open_vectorstore(settings: Settings, embeddings: Embeddings, *, create: bool) -> Chroma | None:
    """The LangChain ``Chroma`` store of ``settings.collection``.

    ``create=True`` creates the collection (cosine space) when missing;
    ``create=False`` returns None when the index or the collection does not
    exist yet. Raises :class:`IndexUnavailable` when the store is unreadable.
    """
    from langchain_chroma import Chroma

    from companion.embeddings import EMBEDDING_DIM, EMBEDDING_MODEL_NAME

    client = chroma_client(settings, create=create)
    if client is None:
        return None
    try:
        if not create:
            names = {getattr(c, "name", c) for c in client.list_collections()}
            if settings.collection not in names:
                return None
        store = Chroma(
            client=client,
            collection_name=settings.collection,
            embedding_function=embeddings,
            collection_configuration=COLLECTION_CONFIGURATION,  # type: ignore[arg-type]
            collection_metadata={"embedding_model": EMBEDDING_MODEL_NAME, "embedding_dim": EMBEDDING_DIM},
            create_collection_if_not_exists=create,
        )
        store._collection.count()  # touch the segment files now, not mid-request
        return store
    except Exception as exc:  # noqa: BLE001
        raise _unavailable(settings, exc) from exc


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, ready to cite.

    ``id``: chunk id in the index; ``title``: document title; ``source``: file
    path (repo-relative when possible); ``text``: chunk text; ``score``:
    relevance 0..1 (cosine similarity, higher is closer); ``heading``: section
    heading of the chunk ("" when none); ``sources``: the document's own
    references (front matter), "" when none.
    """

    id: str
    title: str
    source: str
    text: str
    score: float
    heading: str = ""
    sources: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return asdict(self)

    @classmethod
    def from_document(cls, doc: Document, score: float) -> Passage:
        md = doc.metadata or {}
        return cls(
            id=str(doc.id or md.get("id") or ""),
            title=str(md.get("title") or ""),
            source=str(md.get("source") or ""),
            text=doc.page_content,
            score=round(min(1.0, max(0.0, float(score))), 4),
            heading=str(md.get("heading") or ""),
            sources=str(md.get("sources") or ""),
        )

    def to_document(self) -> Document:
        """As a LangChain Document (metadata holds every other field)."""
        meta = self.to_dict()
        text = meta.pop("text")
        return Document(page_content=text, metadata=meta, id=self.id or None)


class Retriever:
    """Searches the knowledge index.

    ``Retriever(settings, embeddings=None)``: ``embeddings`` defaults to the
    process-wide packaged MiniLM (:func:`companion.embeddings.get_embeddings`),
    loaded on the first query (``count()`` never loads it). The index is opened lazily; an index that does not
    exist yet counts as empty. Raises :class:`IndexUnavailable` (from
    ``count`` / ``retrieve``) when the index is corrupt or unreachable.
    """

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self._embeddings = embeddings
        self._store: Chroma | None = None
        self._space: str | None = None

    @property
    def embeddings(self) -> Embeddings:
        """The embedding model (the packaged MiniLM, loaded on the first query)."""
        if self._embeddings is None:
            from companion.embeddings import LazyEmbeddings

            self._embeddings = LazyEmbeddings()
        return self._embeddings

    def _vectorstore(self) -> Chroma | None:
        if self._store is None:
            self._store = open_vectorstore(self.settings, self.embeddings, create=False)
        return self._store

    def _reset(self) -> None:
        """Forget the open collection (it may have been deleted and rebuilt)."""
        self._store = None
        self._space = None

    def count(self) -> int:
        """Number of chunks in the index (0 when it does not exist yet)."""
        for attempt in (1, 2):
            if self._store is None and not self.settings.chroma_url and not self.settings.index_dir.exists():
                return 0
            store = self._vectorstore()
            if store is None:
                return 0
            try:
                return int(store._collection.count())
            except Exception as exc:  # noqa: BLE001
                self._reset()  # a rebuilt collection has a new id: reopen once
                if attempt == 2:
                    raise _unavailable(self.settings, exc) from exc
        return 0  # pragma: no cover - loop always returns or raises

    def retrieve(self, query: str, k: int | None = None) -> list[Passage]:
        """Up to ``k`` (default ``settings.retrieval_k``) passages for ``query``,
        best first, each with relevance ``score >= settings.retrieval_min_relevance``.

        Returns [] for a blank query or an empty index. Raises
        :class:`IndexUnavailable` when the index cannot be read.
        """
        if not query or not query.strip():
            return []
        k = int(k or self.settings.retrieval_k)
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.count() == 0:
                return []
            store = self._vectorstore()
            assert store is not None
            try:
                hits = store.similarity_search_with_score(query, k=k)
                to_relevance = self._relevance_fn(store)
                break
            except Exception as exc:  # noqa: BLE001
                self._reset()
                if attempt == 2:
                    raise _unavailable(self.settings, exc) from exc
        floor = self.settings.retrieval_min_relevance
        passages = [Passage.from_document(doc, to_relevance(distance)) for doc, distance in hits]
        kept = [p for p in passages if p.score >= floor]
        log.debug("retrieval: %d hits, %d kept (min relevance %.2f) in %.0f ms",
                  len(passages), len(kept), floor, (time.perf_counter() - started) * 1000)
        return kept

    def _relevance_fn(self, store: Chroma) -> Any:
        """Distance -> relevance for the collection's space (vectors are unit length):
        cosine and ip distances are ``1 - cos``; squared l2 is ``2 - 2 cos``."""
        if self._space is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                config = store._collection.configuration or {}
            hnsw = config.get("hnsw") or {}
            spann = config.get("spann") or {}
            self._space = str(hnsw.get("space") or spann.get("space") or "l2")
        if self._space == "l2":
            return lambda d: 1.0 - float(d) / 2.0
        return lambda d: 1.0 - float(d)

    def as_langchain_retriever(self, k: int | None = None) -> BaseRetriever:
        """A LangChain ``BaseRetriever`` over :meth:`retrieve` (same relevance
        floor); each Document's metadata carries ``id``, ``title``, ``source``,
        ``score``, ``heading`` and ``sources``."""
        return PassageRetriever(retriever=self, k=k)


class PassageRetriever(BaseRetriever):
    """LangChain adapter of :class:`Retriever` for chains (``invoke(query)``)."""

    retriever: Any
    k: int | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [p.to_document() for p in self.retriever.retrieve(query, k=self.k)]
