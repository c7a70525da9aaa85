"""Settings from the environment (prefix ``EXAM_``). Unset Redis means the embedded mode:
an in-process job queue, no external server needed."""

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAM_", extra="ignore")

    database_url: str = "sqlite:///./var/exam.db"
    redis_url: str | None = None
    secret_key: str | None = None
    # Proctoring evidence is encrypted at rest with this key (32 bytes, urlsafe base64); default: a key
    # generated once into <data_dir>/evidence_key (exam_server/proctoring/evidence.py).
    evidence_key: str | None = None
    # How often a worker looks for exams past their proctoring retention period (then purges frames).
    proctor_retention_check_seconds: float = Field(default=3600.0, gt=0)
    data_dir: Path = Path("./var/data")
    access_token_minutes: int = Field(default=15, gt=0)
    # Long enough to outlive an exam: sessions must never expire mid-exam.
    refresh_token_hours: int = Field(default=12, gt=0)
    db_pool_size: int = Field(default=10, gt=0)
    sweep_seconds: float = Field(default=30.0, gt=0)
    # how often the worker looks for proctoring sessions whose heartbeats stopped (network drop)
    proctor_sweep_seconds: float = Field(default=5.0, gt=0)
    worker_threads: int = Field(default=4, gt=0)
    # The job outbox: how often a worker sends jobs the API could not (Redis down), and how long
    # sent rows are kept for inspection before the relay prunes them.
    outbox_relay_seconds: float = Field(default=5.0, gt=0)
    outbox_retention_hours: float = Field(default=168.0, ge=0)
    run_embedded_worker: bool = True
    # Pages and headers: trust X-Forwarded-Proto (set it only behind a proxy that overwrites it) to
    # tell HTTPS requests apart; HTTPS answers carry HSTS for this long (0 = none) and Secure cookies.
    trust_forwarded_proto: bool = False
    hsts_seconds: int = Field(default=365 * 24 * 3600, ge=0)
    queue_namespace: str = "exam"
    # Sign-in protection (exam_server/sessions/login_limit.py): after N failures a key is locked
    # for login_lockout_seconds, doubling per further failure up to the max; the count is forgotten
    # after a quiet window. Addresses get a higher N: a school's lab often shares one public address.
    login_max_failures_per_account: int = Field(default=5, gt=0)
    login_max_failures_per_address: int = Field(default=50, gt=0)
    login_failure_window_seconds: int = Field(default=900, gt=0)
    login_lockout_seconds: int = Field(default=30, gt=0)
    login_lockout_max_seconds: int = Field(default=900, gt=0)
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, JSON list); none by default.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Rosters (exam_server/services/roster.py): initial passwords are random, this long, shown once
    # and must be changed at first sign-in; an import file holds at most this many rows.
    initial_password_length: int = Field(default=10, ge=8, le=64)
    roster_max_rows: int = Field(default=5000, gt=0)

    # Resource limits (see exam_server/body_limit.py and exam_server/limits.py). Bodies: refused
    # with 413 before they are read; upload routes get their file limit plus the multipart framing.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_import_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_media_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=25_000_000, gt=0)
    # Archives (QTI packages, XLSX) are inflated by streaming and stopped at these byte counts.
    max_unpacked_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    max_unpacked_member_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_archive_members: int = Field(default=5_000, gt=0)
    max_xlsx_rows: int = Field(default=25_000, gt=0)
    max_xlsx_columns: int = Field(default=64, gt=0)
    max_xlsx_cells: int = Field(default=1_000_000, gt=0)
    # Answers: characters per essay / short answer / blank / typed number, and per attempt in all.
    max_essay_chars: int = Field(default=20_000, gt=0)
    max_short_answer_chars: int = Field(default=5_000, gt=0)
    max_blank_chars: int = Field(default=500, gt=0)
    max_numeric_chars: int = Field(default=100, gt=0)
    max_attempt_answer_chars: int = Field(default=500_000, gt=0)
    # Search and tags.
    max_search_chars: int = Field(default=200, gt=0)
    max_tag_chars: int = Field(default=64, gt=0)
    max_tags: int = Field(default=50, gt=0)
    # Big imports and bulk jobs commit in batches this size, so SQLite's write lock is held briefly.
    import_batch_size: int = Field(default=200, gt=0)
    # Import files this large or larger are read in a child process, away from the API's GIL.
    import_subprocess_bytes: int = Field(default=256 * 1024, gt=0)
    # Printing: the CJK TrueType font (.ttf/.ttc) embedded in every PDF; unset = the first of the
    # Debian fonts found (fonts-wqy-zenhei, fonts-noto-cjk). Print runs are written under
    # <data_dir>/prints/<job id>/ (the data directory must be shared by the API and the workers).
    print_font_path: Path | None = None
    # Times on printed pages (sitting windows) are shown in this IANA zone; the database keeps UTC.
    print_timezone: str = "Asia/Shanghai"
    # Scanned answer sheets (exam_server/services/scans.py): one upload (all its files, a zip
    # counted packed) at most this large; a zip's pages unpacked at most this many files and bytes.
    # Uploads are kept under <data_dir>/scans/<batch id>/.
    max_scan_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_scan_files: int = Field(default=5_000, gt=0)
    max_scan_unpacked_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0)

    @cached_property
    def signing_key(self) -> str:
        """The configured secret, or one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key

    @property
    def embedded_queue(self) -> bool:
        return not self.redis_url
