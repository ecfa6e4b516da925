//! `GET /services/data/vNN.0/limits`: DailyApiRequests mirrors the running count.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::{ok_json, Shared};

pub async fn limits(State(s): State<Arc<Shared>>) -> Response {
    let max = s.daily_api_limit();
    let remaining = max.saturating_sub(s.api_calls());
    let full = |m: u64| json!({ "Max": m, "Remaining": m });
    ok_json(json!({
        "ActiveScratchOrgs": full(3),
        "AnalyticsExternalDataSizeMB": full(40960),
        "ConcurrentAsyncGetReportInstances": full(200),
        "ConcurrentEinsteinDataInsightsStoryCreation": full(5),
        "ConcurrentSyncReportRuns": full(20),
        "DailyAnalyticsDataflowJobExecutions": full(60),
        "DailyApiRequests": { "Max": max, "Remaining": remaining },
        "DailyAsyncApexExecutions": full(250000),
        "DailyAsyncApexTests": full(500),
        "DailyBulkApiBatches": full(15000),
        "DailyBulkV2QueryFileStorageMB": full(976562),
        "DailyBulkV2QueryJobs": full(10000),
        "DailyDurableGenericStreamingApiEvents": full(10000),
        "DailyDurableStreamingApiEvents": full(10000),
        "DailyGenericStreamingApiEvents": full(10000),
        "DailyStandardVolumePlatformEvents": full(10000),
        "DailyStreamingApiEvents": full(10000),
        "DailyWorkflowEmails": full(1890),
        "DataStorageMB": { "Max": 5, "Remaining": 5 },
        "FileStorageMB": { "Max": 20, "Remaining": 20 },
        "HourlyAsyncReportRuns": full(1200),
        "HourlyDashboardRefreshes": full(200),
        "HourlyDashboardResults": full(5000),
        "HourlyDashboardStatuses": full(999999999),
        "HourlyLongTermIdMapping": full(100000),
        "HourlyManagedContentPublicRequests": full(50000),
        "HourlyODataCallout": full(10000),
        "HourlyPublishedPlatformEvents": full(50000),
        "HourlyPublishedStandardVolumePlatformEvents": full(100000),
        "HourlyShortTermIdMapping": full(100000),
        "HourlySyncReportRuns": full(500),
        "HourlyTimeBasedWorkflow": full(50),
        "MassEmail": full(10),
        "MonthlyPlatformEventsUsageEntitlement": full(0),
        "Package2VersionCreates": full(6),
        "PermissionSets": full(1500),
        "SingleEmail": full(15),
        "StreamingApiConcurrentClients": full(20),
    }))
}
