"""The sample bodies of the reference page "Jobs Resource (Data API 17.4)": same JSON, whitespace aside."""

START_RUNNING = """\
{
   "_v" : "17.4",
   "_type" : "job_execution",
   "_resource_state" : "485715bae6023b28b849273a517f1f538d3c6290c70018e9afcaac767b9f513f",
   "client_id" : "af7f5c90-ffc1-4ea4-9613-f5b375b7dc19",
   "duration" : 0,
   "execution_status" : "running",
   "id" : "40605",
   "is_log_file_existing" : false,
   "is_restart" : false,
   "job_id" : "CustomerImportJob",
   "log_file_name" : "Job-JobExecutionTestJob1-20160520120033101.log",
   "modification_time" : "2016-05-20T12:00:33.117Z",
   "start_time" : "2016-05-20T12:00:33.117Z",
   "status" : "RUNNING"
}
"""

START_JOB_NOT_FOUND = """\
{
   "_v" : "17.4",
   "fault" :
   {
      "arguments" :
      {
         "jobId" : "CustomerImportJob"
      },
      "type" : "JobNotFoundException",
      "message" : "No job with ID 'CustomerImportJob' was found."
   }
}
"""

START_EXECUTION_FAILED_409 = """\
{
   "_v" : "17.4",
   "fault" :
   {
      "arguments" :
      {
         "jobId" : "CustomerImportJob"
      },
      "type" : "JobExecutionException",
      "message" : "The job with ID 'CustomerImportJob' could not be executed."
   }
}
"""

READ_FINISHED = """\
{
   "_v" : "17.4",
   "_type" : "job_execution",
   "_resource_state" : "ac83c2e1ff3129ed6579c5fa95f746047d7db6867dd26da78dc89d23083127a3",
   "client_id" : "af7f5c90-ffc1-4ea4-9613-f5b375b7dc19",
   "duration" : 185,
   "end_time" : "2016-05-20T11:54:46.220Z",
   "execution_scopes" :
   [
      "SiteGenesis",
      "SiteGenesis-US",
      "SiteGenesis-DE"
   ],
   "execution_status" : "finished",
   "exit_status" :
   {
      "_type" : "status",
      "code" : "OK",
      "status" : "ok"
   },
   "id" : "90",
   "is_log_file_existing" : true,
   "is_restart" : false,
   "job_id" : "CustomerImportJob",
   "log_file_name" : "Job-JobExecutionTestJob1-20160520115446018.log",
   "modification_time" : "2016-05-20T11:54:46.224Z",
   "start_time" : "2016-05-20T11:54:46.035Z",
   "status" : "OK",
   "step_executions" :
   [
      {
         "_type" : "job_step_execution",
         "duration" : 16,
         "end_time" : "2016-05-20T11:54:46.075Z",
         "execution_scope" : "Organization",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "OK",
            "message" : "",
            "status" : "ok"
         },
         "id" : "41265",
         "modification_time" : "2016-05-20T11:54:46.075Z",
         "start_time" : "2016-05-20T11:54:46.059Z",
         "status" : "OK",
         "step_description" : "A step that executes a pipeline that can be configured via a parameter",
         "step_id" : "Step1",
         "step_type_id" : "ExecutePipeline",
         "step_type_info" : "TestScheduleJobProcessPipeline-StartEnd"
      },
      {
         "_type" : "job_step_execution",
         "duration" : 12,
         "end_time" : "2016-05-20T11:54:46.102Z",
         "execution_scope" : "Organization",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "OK",
            "message" : "",
            "status" : "ok"
         },
         "id" : "41266",
         "modification_time" : "2016-05-20T11:54:46.103Z",
         "start_time" : "2016-05-20T11:54:46.090Z",
         "status" : "OK",
"step_description" : "A step that executes a script module function that can be configured via a parameter",
         "step_id" : "Step2",
         "step_type_id" : "ExecuteScriptModule",
         "step_type_info" : "testScriptModuleStep.ds#execute"
      },
      {
         "_type" : "job_step_execution",
         "duration" : 16,
         "end_time" : "2016-05-20T11:54:46.132Z",
         "execution_scope" : "SiteGenesis-DE",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "OK",
            "message" : "",
            "status" : "ok"
         },
         "id" : "41267",
         "include_steps_from_job_id" : "JobExecutionTestJob2",
         "modification_time" : "2016-05-20T11:54:46.132Z",
         "start_time" : "2016-05-20T11:54:46.116Z",
         "status" : "OK",
         "step_description" : "A step that executes a pipeline that can be configured via a parameter",
         "step_id" : "Step3 - Step1",
         "step_type_id" : "ExecutePipeline",
         "step_type_info" : "TestScheduleJobProcessPipeline-StartEnd"
      },
      {
         "_type" : "job_step_execution",
         "duration" : 14,
         "end_time" : "2016-05-20T11:54:46.159Z",
         "execution_scope" : "SiteGenesis-DE",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "SUCCESS",
            "message" : "Step was successful!",
            "status" : "ok"
         },
         "id" : "41268",
         "include_steps_from_job_id" : "JobExecutionTestJob2",
         "modification_time" : "2016-05-20T11:54:46.159Z",
         "start_time" : "2016-05-20T11:54:46.145Z",
         "status" : "SUCCESS",
         "step_description" : "",
         "step_id" : "Step3 - Step2",
         "step_type_id" : "ExecuteScriptModule",
         "step_type_info" : "testScriptModuleStep.ds#testReturnStatusOkWithCodeAndMessage"
      },
      {
         "_type" : "job_step_execution",
         "duration" : 15,
         "end_time" : "2016-05-20T11:54:46.189Z",
         "execution_scope" : "SiteGenesis",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "OK",
            "message" : "",
            "status" : "ok"
         },
         "id" : "41269",
         "include_steps_from_job_id" : "JobExecutionTestJob2",
         "modification_time" : "2016-05-20T11:54:46.189Z",
         "start_time" : "2016-05-20T11:54:46.174Z",
         "status" : "OK",
         "step_description" : "A step that executes a pipeline that can be configured via a parameter",
         "step_id" : "Step3 - Step1",
         "step_type_id" : "ExecutePipeline",
         "step_type_info" : "TestScheduleJobProcessPipeline-StartEnd"
      },
      {
         "_type" : "job_step_execution",
         "duration" : 13,
         "end_time" : "2016-05-20T11:54:46.216Z",
         "execution_scope" : "SiteGenesis",
         "execution_status" : "finished",
         "exit_status" :
         {
            "_type" : "status",
            "code" : "SUCCESS",
            "message" : "Step was successful!",
            "status" : "ok"
         },
         "id" : "41270",
         "include_steps_from_job_id" : "JobExecutionTestJob2",
         "modification_time" : "2016-05-20T11:54:46.216Z",
         "start_time" : "2016-05-20T11:54:46.203Z",
         "status" : "SUCCESS",
         "step_description" : "",
         "step_id" : "Step3 - Step2",
         "step_type_id" : "ExecuteScriptModule",
         "step_type_info" : "testScriptModuleStep.ds#testReturnStatusOkWithCodeAndMessage"
      }
   ]
}
"""

READ_NOT_FOUND = """\
{
   "_v" : "17.4",
   "fault" :
   {
      "arguments" :
      {
         "executionId" : "90"
      },
      "type" : "JobExecutionNotFoundException",
      "message" : "No Job execution with ID '90' was found."
   }
}
"""

DELETE_NOT_FOUND = """\
{
   "_v" : "17.4",
   "fault" :
   {
      "arguments" :
      {
         "executionId" : "85"
      },
      "type" : "JobExecutionNotFoundException",
      "message" : "No Job execution with ID '85' was found."
   }
}
"""
