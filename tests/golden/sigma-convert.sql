-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_bedrock_guardrail_deleted.yml
-- AWS Bedrock Guardrail Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'deleteguardrail' AND lower("eventsource") = 'bedrock.amazonaws.com')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_bedrock_guardrail_updated.yml
-- AWS Bedrock Guardrail Updated
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'updateguardrail' AND lower("eventsource") = 'bedrock.amazonaws.com')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_bucket_deleted.yml
-- AWS Bucket Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'deletebucket' AND ("errorcode" IS NULL OR lower("errorcode") = 'success'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_console_login_failed_authentication.yml
-- AWS ConsoleLogin Failed Authentication
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'consolelogin' AND lower("errormessage") = 'failed authentication')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_console_login_success_without_mfa.yml
-- AWS Successful Console Login Without MFA
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'consolelogin' AND lower(json_extract_scalar("additionaleventdata", '$["MFAUsed"]')) = 'no' AND lower(json_extract_scalar("responseelements", '$["ConsoleLogin"]')) = 'success')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_disable_logging.yml
-- AWS CloudTrail Important Change
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'cloudtrail.amazonaws.com' AND lower("eventname") IN ('stoplogging', 'updatetrail', 'deletetrail'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_guardduty_detector_deleted_or_updated.yml
-- AWS GuardDuty Detector Deleted Or Updated
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'guardduty.amazonaws.com' AND (lower("eventname") = 'deletedetector' OR (lower("eventname") = 'updatedetector' AND lower(json_extract_scalar("requestparameters", '$["enable"]')) = 'false')) AND ("errorcode" IS NULL OR lower("errorcode") = 'success'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_imds_malicious_usage.yml
-- Malicious Usage Of IMDS Credentials Outside Of AWS Infrastructure
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (regexp_like("useridentity"['arn'], '.+:assumed-role/aws:.+') AND NOT ((coalesce(lower("eventsource") = 'ssm.amazonaws.com', false) OR coalesce(lower("eventname") = 'registermanagedinstance', false) OR coalesce(lower("sourceipaddress") = 'aws internal', false))))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_new_acl_entries.yml
-- New Network ACL Entry Added
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") = 'createnetworkaclentry')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_new_route_added.yml
-- New Network Route Added
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") = 'createroute')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_pua_trufflehog.yml
-- PUA - AWS TruffleHog Execution
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE lower("useragent") = 'trufflehog'
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_region_enabled.yml
-- AWS EnableRegion Command Monitoring
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'enableregion' AND lower("eventsource") = 'account.amazonaws.com')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_security_group_change_ingress_egress.yml
-- Ingress/Egress Security Group Modification
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") IN ('authorizesecuritygroupegress', 'authorizesecuritygroupingress', 'revokesecuritygroupegress', 'revokesecuritygroupingress'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_security_group_change_loadbalancer.yml
-- LoadBalancer Security Group Modification
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'elasticloadbalancing.amazonaws.com' AND lower("eventname") IN ('applysecuritygroupstoloadbalancer', 'setsecuritygroups'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_security_group_change_rds.yml
-- RDS Database Security Group Modification
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'rds.amazonaws.com' AND lower("eventname") IN ('authorizedbsecuritygroupingress', 'createdbsecuritygroup', 'deletedbsecuritygroup', 'revokedbsecuritygroupingress'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_ssm_malicious_usage.yml
-- Potential Malicious Usage of CloudTrail System Manager
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventname") = 'sendcommand' AND lower("eventsource") = 'ssm.amazonaws.com') AND ("errorcode" IS NULL OR lower("errorcode") = 'success'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_cloudtrail_vpc_flow_logs_deleted.yml
-- AWS VPC Flow Logs Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventname") = 'deleteflowlogs' AND ("errorcode" IS NULL OR lower("errorcode") = 'success'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_config_disable_recording.yml
-- AWS Config Disabling Channel/Recorder
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'config.amazonaws.com' AND lower("eventname") IN ('deletedeliverychannel', 'stopconfigurationrecorder'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_console_getsignintoken.yml
-- AWS Console GetSigninToken Potential Abuse
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventsource") = 'signin.amazonaws.com' AND lower("eventname") = 'getsignintoken') AND NOT (coalesce(lower("useragent") LIKE '%jersey/${project.version}%' ESCAPE '\', false)))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_delete_identity.yml
-- SES Identity Has Been Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ses.amazonaws.com' AND lower("eventname") = 'deleteidentity')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_delete_saml_provider.yml
-- AWS SAML Provider Deletion Activity
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") = 'deletesamlprovider' AND false)
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_disable_bucket_versioning.yml
-- AWS S3 Bucket Versioning Disable
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 's3.amazonaws.com' AND lower("eventname") = 'putbucketversioning' AND lower("requestparameters") LIKE '%suspended%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_ec2_disable_encryption.yml
-- AWS EC2 Disable EBS Encryption
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") = 'disableebsencryptionbydefault')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_ec2_import_key_pair_activity.yml
-- AWS Key Pair Import Activity
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") = 'importkeypair')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_ec2_startup_script_change.yml
-- AWS EC2 Startup Shell Script Change
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower(json_extract_scalar("requestparameters", '$["attribute"]')) = 'userdata' AND lower("eventname") = 'modifyinstanceattribute')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_ec2_vm_export_failure.yml
-- AWS EC2 VM Export Failure
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventname") = 'createinstanceexporttask' AND lower("eventsource") = 'ec2.amazonaws.com') AND NOT ((coalesce(lower("errormessage") LIKE '%%%' ESCAPE '\', false) OR coalesce(lower("errorcode") LIKE '%%%' ESCAPE '\', false) OR coalesce(lower("responseelements") LIKE '%failure%' ESCAPE '\', false))))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_ecs_task_definition_cred_endpoint_query.yml
-- AWS ECS Task Definition That Queries The Credential Endpoint
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ecs.amazonaws.com' AND lower("eventname") IN ('describetaskdefinition', 'registertaskdefinition', 'runtask') AND lower(json_extract_scalar("requestparameters", '$["containerDefinitions"]["command"]')) LIKE '%$aws\_container\_credentials\_relative\_uri%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_efs_fileshare_modified_or_deleted.yml
-- AWS EFS Fileshare Modified or Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'elasticfilesystem.amazonaws.com' AND lower("eventname") = 'deletefilesystem')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_efs_fileshare_mount_modified_or_deleted.yml
-- AWS EFS Fileshare Mount Modified or Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'elasticfilesystem.amazonaws.com' AND lower("eventname") = 'deletemounttarget')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_eks_cluster_created_or_deleted.yml
-- AWS EKS Cluster Created or Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'eks.amazonaws.com' AND lower("eventname") IN ('createcluster', 'deletecluster'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_elasticache_security_group_created.yml
-- AWS ElastiCache Security Group Created
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'elasticache.amazonaws.com' AND lower("eventname") = 'createcachesecuritygroup')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_elasticache_security_group_modified_or_deleted.yml
-- AWS ElastiCache Security Group Modified or Deleted
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'elasticache.amazonaws.com' AND lower("eventname") IN ('deletecachesecuritygroup', 'authorizecachesecuritygroupingress', 'revokecachesecuritygroupingress', 'authorizecachesecuritygroupegress', 'revokecachesecuritygroupegress'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_enum_buckets.yml
-- Potential Bucket Enumeration on AWS
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventsource") = 's3.amazonaws.com' AND lower("eventname") = 'listbuckets') AND NOT (coalesce(lower("useridentity"['type']) = 'assumedrole', false)))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_guardduty_disruption.yml
-- AWS GuardDuty Important Change
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'guardduty.amazonaws.com' AND lower("eventname") = 'createipset')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_iam_backdoor_users_keys.yml
-- AWS IAM Backdoor Users Keys
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") = 'createaccesskey') AND NOT (coalesce(lower("useridentity"['arn']) LIKE '%responseelements.accesskey.username%' ESCAPE '\', false)))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_iam_s3browser_loginprofile_creation.yml
-- AWS IAM S3Browser LoginProfile Creation
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") IN ('getloginprofile', 'createloginprofile') AND lower("useragent") LIKE '%s3 browser%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_iam_s3browser_templated_s3_bucket_policy_creation.yml
-- AWS IAM S3Browser Templated S3 Bucket Policy Creation
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") = 'putuserpolicy' AND lower("useragent") LIKE '%s3 browser%' ESCAPE '\' AND (lower("requestparameters") LIKE '%"arn:aws:s3:::<your-bucket-name>/%"%' ESCAPE '\' AND lower("requestparameters") LIKE '%"s3:getobject"%' ESCAPE '\' AND lower("requestparameters") LIKE '%"allow"%' ESCAPE '\'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_iam_s3browser_user_or_accesskey_creation.yml
-- AWS IAM S3Browser User or AccessKey Creation
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") IN ('createuser', 'createaccesskey') AND lower("useragent") LIKE '%s3 browser%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_kms_import_key_material.yml
-- AWS KMS Imported Key Material Usage
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'kms.amazonaws.com' AND lower("eventname") IN ('importkeymaterial', 'deleteimportedkeymaterial'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_lambda_function_url.yml
-- New AWS Lambda Function URL Configuration Created
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'lambda.amazonaws.com' AND lower("eventname") = 'createfunctionurlconfig')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_new_lambda_layer_attached.yml
-- AWS New Lambda Layer Attached
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'lambda.amazonaws.com' AND lower("eventname") LIKE 'updatefunctionconfiguration%' ESCAPE '\' AND lower(json_extract_scalar("requestparameters", '$["layers"]')) LIKE '%%%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_passed_role_to_glue_development_endpoint.yml
-- AWS Glue Development Endpoint Activity
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'glue.amazonaws.com' AND lower("eventname") IN ('createdevendpoint', 'deletedevendpoint', 'updatedevendpoint'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_rds_change_master_password.yml
-- AWS RDS Master Password Change
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'rds.amazonaws.com' AND lower(json_extract_scalar("responseelements", '$["pendingModifiedValues"]["masterUserPassword"]')) LIKE '%%%' ESCAPE '\' AND lower("eventname") = 'modifydbinstance')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_rds_dbcluster_actions.yml
-- Modification or Deletion of an AWS RDS Cluster
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'rds.amazonaws.com' AND lower("eventname") IN ('modifydbcluster', 'deletedbcluster'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_rds_public_db_restore.yml
-- Restore Public AWS RDS Instance
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'rds.amazonaws.com' AND lower(json_extract_scalar("responseelements", '$["publiclyAccessible"]')) = 'true' AND lower("eventname") = 'restoredbinstancefromdbsnapshot')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_root_account_usage.yml
-- AWS Root Credentials
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("useridentity"['type']) = 'root' AND NOT (coalesce(lower("eventtype") = 'awsserviceevent', false)))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_route_53_domain_transferred_lock_disabled.yml
-- AWS Route 53 Domain Transfer Lock Disabled
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'route53.amazonaws.com' AND lower("eventname") = 'disabledomaintransferlock')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_route_53_domain_transferred_to_another_account.yml
-- AWS Route 53 Domain Transferred to Another Account
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'route53.amazonaws.com' AND lower("eventname") = 'transferdomaintoanotherawsaccount')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_s3_data_management_tampering.yml
-- AWS S3 Data Management Tampering
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 's3.amazonaws.com' AND lower("eventname") IN ('putbucketlogging', 'putbucketwebsite', 'putencryptionconfiguration', 'putlifecycleconfiguration', 'putreplicationconfiguration', 'replicateobject', 'restoreobject'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_securityhub_finding_evasion.yml
-- AWS SecurityHub Findings Evasion
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'securityhub.amazonaws.com' AND lower("eventname") IN ('batchupdatefindings', 'deleteinsight', 'updatefindings', 'updateinsight'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_snapshot_backup_exfiltration.yml
-- AWS Snapshot Backup Exfiltration
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'ec2.amazonaws.com' AND lower("eventname") = 'modifysnapshotattribute')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_sso_idp_change.yml
-- AWS Identity Center Identity Provider Change
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") IN ('sso-directory.amazonaws.com', 'sso.amazonaws.com') AND lower("eventname") IN ('associatedirectory', 'disableexternalidpconfigurationfordirectory', 'disassociatedirectory', 'enableexternalidpconfigurationfordirectory'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_sts_assumerole_misuse.yml
-- AWS STS AssumeRole Misuse
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("useridentity"['type']) = 'assumedrole' AND lower("useridentity"['sessioncontext']['sessionissuer']['type']) = 'role')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_sts_getcalleridentity_trufflehog.yml
-- AWS STS GetCallerIdentity Enumeration Via TruffleHog
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'sts.amazonaws.com' AND lower("eventname") = 'getcalleridentity' AND lower("useragent") LIKE '%trufflehog%' ESCAPE '\')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_sts_getsessiontoken_misuse.yml
-- AWS STS GetSessionToken Misuse
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE (lower("eventsource") = 'sts.amazonaws.com' AND lower("eventname") = 'getsessiontoken' AND lower("useridentity"['type']) = 'iamuser')
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_susp_saml_activity.yml
-- AWS Suspicious SAML Activity
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") = 'updatesamlprovider') OR (lower("eventsource") = 'sts.amazonaws.com' AND lower("eventname") = 'assumerolewithsaml'))
GROUP BY 1;

-- ../shared/corpora/sigma/sigmahq-aws-cloudtrail/aws_update_login_profile.yml
-- AWS User Login Profile Was Modified
SELECT coalesce("useridentity"['arn'], sourceipaddress, 'unknown') AS entity, max("useridentity"['arn']) AS principal, min(sourceipaddress) AS ip, count(*) AS count, min(eventtime) AS first_seen, max(eventtime) AS last_seen, first_n(named_struct('log_object', log_object, 'log_line', log_line, 'eventid', eventid, 'eventtime', eventtime, 'eventname', eventname), eventtime, 10) AS evidence
FROM cloudtrail
WHERE ((lower("eventsource") = 'iam.amazonaws.com' AND lower("eventname") = 'updateloginprofile') AND NOT (coalesce("useridentity"['arn'] = json_extract_scalar("requestparameters", '$["userName"]'), false)))
GROUP BY 1;

