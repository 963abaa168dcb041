"""The status report: the page as values, and its HTML, JSON, Markdown and badge forms.

store --snapshot.read_page--> StatusPage --html / document / markdown / badge--> text

The live page's overview and the status document are also kept between requests and
read again only where the store changed (overview.py, live_status.py).
"""

from harness.report.badge import badge_svg
from harness.report.document import incident_document, status_document
from harness.report.files import report_files, write_report
from harness.report.html import (
    Fragment,
    Row,
    content_security_policy,
    render_details,
    render_fragment,
    render_live_page,
    render_page,
)
from harness.report.live_status import LiveStatus, StatusText
from harness.report.markdown import status_markdown
from harness.report.overview import LiveOverview, Overview, read_overview
from harness.report.snapshot import provider_badge_state, read_page
from harness.report.view import (
    ModelView,
    ProviderView,
    StatusPage,
    TargetFacts,
    build_page,
    with_overruns,
)

__all__ = [
    "Fragment",
    "LiveOverview",
    "LiveStatus",
    "ModelView",
    "Overview",
    "ProviderView",
    "Row",
    "StatusPage",
    "StatusText",
    "TargetFacts",
    "badge_svg",
    "build_page",
    "content_security_policy",
    "incident_document",
    "provider_badge_state",
    "read_overview",
    "read_page",
    "render_details",
    "render_fragment",
    "render_live_page",
    "render_page",
    "report_files",
    "status_document",
    "status_markdown",
    "with_overruns",
    "write_report",
]
