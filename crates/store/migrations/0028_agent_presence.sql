-- When agents came on duty in a queue and left it (queue_log's ADDMEMBER,
-- AGENTLOGIN and UNPAUSE; REMOVEMEMBER, AGENTLOGOFF and PAUSE), kept once
-- each: the staffing view sets the agents on duty beside those needed.
CREATE TABLE agent_presence (
    agent TEXT NOT NULL,
    queue TEXT NOT NULL,
    at BIGINT NOT NULL,
    on_duty BOOLEAN NOT NULL,
    PRIMARY KEY (agent, queue, at, on_duty)
);
CREATE INDEX agent_presence_by_at ON agent_presence (at);
