//! Tauri build step. Every command the UI may call is listed here, so that
//! it gets an `allow-…` permission; the capability in capabilities/ grants
//! exactly these and nothing else.

const COMMANDS: &[&str] = &[
    // settings
    "app_status",
    "set_language",
    "data_version",
    "reopen",
    "start_at_login_get",
    "start_at_login_set",
    // customers
    "customer_list",
    "customer_facets",
    "customer_options",
    "customer_get",
    "customer_create",
    "customer_update",
    "customer_delete",
    "customer_restore",
    "customer_purge",
    "customer_history",
    "customer_assign_owner",
    // contacts
    "contact_add",
    "contact_update",
    "contact_remove",
    // tags
    "tag_list",
    "tag_create",
    "tag_edit",
    "tag_merge",
    "tag_delete",
    "tag_apply",
    // members
    "member_list",
    "member_add",
    "member_update",
    "member_remove",
    "member_set_me",
    // search
    "quick_search",
    // backup
    "backup_list",
    "backup_now",
    "backup_restore",
    // follow-ups, today, alerts, pipeline, import/export, duplicates
    "today_get",
    "followup_add",
    "followup_complete",
    "followup_postpone",
    "followup_cancel",
    "followup_timeline",
    "followup_suggest",
    "alert_dismiss",
    "reminders_restart",
    "pipeline_board",
    "pipeline_stages",
    "opportunity_list",
    "opportunity_create",
    "opportunity_set_stage",
    "opportunity_history",
    "pick_import_file",
    "pick_save_file",
    "import_preview",
    "import_run",
    "import_cancel",
    "import_error_report",
    "import_jobs",
    "import_undo",
    "template_save",
    "export_customers",
    "dedupe_candidates",
    "dedupe_scan",
    "dedupe_cancel",
    "dedupe_ignore",
    "dedupe_merge",
    "dedupe_unmerge",
    "dedupe_history",
    "dedupe_settings_get",
    "dedupe_settings_set",
    // analysis
    "analysis_dashboard",
    "analysis_pipeline_funnel",
    "analysis_customer_funnel",
    "analysis_trend",
    "analysis_heatmap",
    "analysis_sources",
    "analysis_segments",
    "analysis_targets",
    "analysis_export",
    "analysis_keywords",
    "daily_latest",
    "daily_list",
    "daily_get",
    "daily_mark_seen",
    "daily_settings_get",
    "daily_settings_set",
    // team sync
    "sync_overview",
    "sync_open_conflicts",
    "sync_pick_folder",
    "sync_check_folder",
    "sync_setup",
    "sync_now",
    "sync_conflicts",
    "sync_take",
    "sync_rename_device",
    "sync_auto_set",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
