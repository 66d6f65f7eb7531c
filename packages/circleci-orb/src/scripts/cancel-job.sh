#!/bin/bash
# Cancels the Toolkit job that run-job submitted in this job, when it is still alive: run-job's command
# runs it when an earlier step failed (the job failed, the wait timed out, no_output_timeout struck).
# A job that has already ended is left as it is; a failure to cancel is a warning, not a second error.
# Environment: PARAM_ENV_VAR_NAME, PARAM_API_URL; TOOLKIT_CI_JOB_ID, TOOLKIT_CI_MODE and TOOLKIT_CI_CMD
# from the earlier steps (through $BASH_ENV).
# Parameters arrive in the environment only: CircleCI would expand its parameter syntax (a double
# less-than sign) even here, so this file has none, not even in a here-document.

if [ -z "${TOOLKIT_CI_JOB_ID:-}" ] || [ "${TOOLKIT_CI_MODE:-}" != cli ]; then
  echo "No Toolkit job was submitted in this job: nothing to cancel."
  exit 0
fi
cli=()
read -r -a cli < <(printf '%s\n' "${TOOLKIT_CI_CMD:-}")
common=(--token-env "${PARAM_ENV_VAR_NAME:-EAI_TOKEN}")
if [ -n "${PARAM_API_URL:-}" ]; then common+=(--api-url "$PARAM_API_URL"); fi

if ! state="$("${cli[@]}" job get "$TOOLKIT_CI_JOB_ID" "${common[@]}")"; then
  echo "warning: could not read job ${TOOLKIT_CI_JOB_ID}: it is not cancelled."
  exit 0
fi
if [[ "$state" != *"alive: true"* ]]; then
  echo "Job ${TOOLKIT_CI_JOB_ID} has already ended: nothing to cancel."
  exit 0
fi
if "${cli[@]}" job cancel "$TOOLKIT_CI_JOB_ID" "${common[@]}"; then
  echo "Cancelled job ${TOOLKIT_CI_JOB_ID}."
else
  echo "warning: could not cancel job ${TOOLKIT_CI_JOB_ID}."
fi
