// Keeps scout_reports a non-empty library until the report writer lands.
namespace scout::reports {
int report_library_version() { return 1; }
}  // namespace scout::reports
