//! The commands the UI calls, one file per domain. Each is a few lines:
//! take the state, call the core, return its error as `{code, message,
//! field}` in the user's language. Every command is also listed in
//! build.rs (its permission) and granted in capabilities/main.json.

pub mod analysis;
pub mod backup;
pub mod contacts;
pub mod customers;
pub mod daily;
pub mod dedupe;
pub mod followups;
pub mod imports;
pub mod members;
pub mod opportunities;
pub mod search;
pub mod settings;
pub mod sync;
pub mod tags;

use kehu::error::ErrorPayload;

/// What every command returns.
pub type Res<T> = Result<T, ErrorPayload>;

/// A command's work on a blocking thread ended without an answer (panicked).
pub fn blocking_err(lang: kehu::Lang) -> ErrorPayload {
    kehu::Error::Io(std::io::Error::other("task failed")).to_payload(lang)
}

pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        settings::app_status,
        settings::set_language,
        settings::data_version,
        settings::reopen,
        settings::db_unlock,
        settings::db_encrypt,
        settings::db_rekey,
        settings::db_decrypt,
        settings::start_at_login_get,
        settings::start_at_login_set,
        customers::customer_list,
        customers::customer_facets,
        customers::customer_options,
        customers::customer_get,
        customers::customer_create,
        customers::customer_update,
        customers::customer_delete,
        customers::customer_restore,
        customers::customer_purge,
        customers::customer_history,
        customers::customer_assign_owner,
        contacts::contact_add,
        contacts::contact_update,
        contacts::contact_remove,
        tags::tag_list,
        tags::tag_create,
        tags::tag_edit,
        tags::tag_merge,
        tags::tag_delete,
        tags::tag_apply,
        members::member_list,
        members::member_add,
        members::member_update,
        members::member_remove,
        members::member_set_me,
        search::quick_search,
        backup::backup_list,
        backup::backup_now,
        backup::backup_restore,
        followups::today_get,
        followups::alerts_evaluate,
        followups::followup_add,
        followups::followup_complete,
        followups::followup_postpone,
        followups::followup_cancel,
        followups::followup_timeline,
        followups::followup_suggest,
        followups::alert_dismiss,
        followups::alert_thresholds_get,
        followups::alert_thresholds_set,
        followups::reminders_restart,
        opportunities::pipeline_board,
        opportunities::pipeline_stages,
        opportunities::opportunity_list,
        opportunities::opportunity_create,
        opportunities::opportunity_set_stage,
        opportunities::opportunity_history,
        imports::pick_import_file,
        imports::pick_save_file,
        imports::import_preview,
        imports::import_run,
        imports::import_cancel,
        imports::import_error_report,
        imports::import_jobs,
        imports::import_undo,
        imports::template_save,
        imports::export_customers,
        dedupe::dedupe_candidates,
        dedupe::dedupe_scan,
        dedupe::dedupe_cancel,
        dedupe::dedupe_ignore,
        dedupe::dedupe_merge,
        dedupe::dedupe_unmerge,
        dedupe::dedupe_history,
        dedupe::dedupe_settings_get,
        dedupe::dedupe_settings_set,
        analysis::analysis_dashboard,
        analysis::analysis_pipeline_funnel,
        analysis::analysis_customer_funnel,
        analysis::analysis_trend,
        analysis::analysis_heatmap,
        analysis::analysis_sources,
        analysis::analysis_segments,
        analysis::customer_segments,
        analysis::segment_rules_get,
        analysis::segment_rules_set,
        analysis::analysis_targets,
        analysis::analysis_export,
        analysis::analysis_export_pdf,
        daily::analysis_keywords,
        daily::daily_latest,
        daily::daily_list,
        daily::daily_get,
        daily::daily_mark_seen,
        daily::daily_settings_get,
        daily::daily_settings_set,
        sync::sync_overview,
        sync::sync_open_conflicts,
        sync::sync_pick_folder,
        sync::sync_check_folder,
        sync::sync_check_target,
        sync::sync_setup,
        sync::sync_now,
        sync::sync_conflicts,
        sync::sync_take,
        sync::sync_rename_device,
        sync::sync_auto_set,
    ]
}

#[cfg(test)]
mod tests {
    /// A command the handler serves but the build script or the window's
    /// capability does not list is refused at run time ("not allowed"):
    /// the three lists must agree.
    #[test]
    fn every_command_is_listed_in_the_build_script_and_allowed_for_the_window() {
        let handler: Vec<String> = include_str!("mod.rs")
            .split("generate_handler![")
            .nth(1)
            .expect("the handler list")
            .split(']')
            .next()
            .unwrap()
            .split(',')
            .filter_map(|s| s.trim().rsplit("::").next().map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect();
        assert!(handler.len() > 50, "{handler:?}");
        let build = include_str!("../../build.rs");
        let caps = include_str!("../../capabilities/main.json");
        for cmd in &handler {
            assert!(
                build.contains(&format!("\"{cmd}\"")),
                "{cmd} is missing from build.rs"
            );
            let allow = format!("\"allow-{}\"", cmd.replace('_', "-"));
            assert!(
                caps.contains(&allow),
                "{allow} is missing from capabilities/main.json"
            );
        }
    }
}
