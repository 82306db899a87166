-- Root causes: each response's causes of discontent and delight, from the
-- reason options chosen, keyword rules over its free text, or set by hand.
-- The dimensions reports filter by are copied in (as in the rollups), so a
-- Pareto of causes for any filter reads this table alone.
CREATE TABLE response_causes (
    order_number TEXT NOT NULL,
    response_id TEXT NOT NULL,
    cause_id TEXT NOT NULL,
    source TEXT NOT NULL,
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL,
    city TEXT NOT NULL,
    partner TEXT NOT NULL,
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    courier_id TEXT,
    nps BIGINT,
    PRIMARY KEY (order_number, response_id, cause_id)
);

CREATE INDEX response_causes_by_day ON response_causes (day);

-- A response whose causes the quality team set by hand keeps them when the
-- rules change and everything is tagged again.
ALTER TABLE responses ADD COLUMN tagged_by_hand BOOLEAN NOT NULL DEFAULT FALSE;

-- For the self-filling signals: a fingerprint of the answers given (the same
-- sequence tapped again and again shows as one fingerprint), and whether the
-- customer agreed to a photo (so "photos never taken" can be counted).
ALTER TABLE responses ADD COLUMN answer_signature TEXT;
ALTER TABLE responses ADD COLUMN photo_asked BOOLEAN NOT NULL DEFAULT FALSE;
