//! Launch template calls the resources share: whether one exists, and deleting one.

use super::error::{absent_is_none, aws_err};
use super::{AwsClients, AwsError};

/// Whether launch template `id` exists: from the process's listing of the tagged templates
/// when it has it, else read directly (a template missing from the listing may be untagged,
/// as an imported group's is).
pub async fn template_exists(clients: &AwsClients, id: &str) -> Result<bool, AwsError> {
    if let Some(templates) = clients.templates.tagged().await
        && templates.iter().any(|t| t.launch_template_id() == Some(id))
    {
        return Ok(true);
    }
    describe_exists(clients, id).await
}

/// Whether launch template `id` exists, read directly.
async fn describe_exists(clients: &AwsClients, id: &str) -> Result<bool, AwsError> {
    let described = clients
        .ec2
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
        .map_err(aws_err("DescribeLaunchTemplates"));
    Ok(absent_is_none(described)?.is_some_and(|out| !out.launch_templates().is_empty()))
}

/// Deletes launch template `id`; a template already gone is success.
pub async fn delete_launch_template(clients: &AwsClients, id: &str) -> Result<(), AwsError> {
    // Look first: deleting a missing template is not reliably "NotFound" everywhere.
    if describe_exists(clients, id).await? {
        tracing::info!(launch_template = id, "deleting launch template");
        let deleted = clients
            .ec2
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
            .map_err(aws_err("DeleteLaunchTemplate"));
        absent_is_none(deleted)?;
    }
    Ok(())
}
