// Keeps scout_tasks a non-empty library while tasks are being added.
namespace scout::tasks {
int task_library_version() { return 1; }
}  // namespace scout::tasks
