-- 003: what the scheduler needs beyond v0. Campaign calling hours and route-selection strategy;
-- line weight, per-caller-id limits and the operator's health override.

-- JSON {"timeZone": "Asia/Shanghai", "windows": [{"days": [1,2,3,4,5], "start": "09:00", "end": "20:00"}]};
-- NULL = any time.
ALTER TABLE campaigns ADD COLUMN schedule TEXT;
ALTER TABLE campaigns ADD COLUMN selection_strategy TEXT NOT NULL DEFAULT 'answer_rate_first';

ALTER TABLE lines ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;
ALTER TABLE lines ADD COLUMN caller_id_caps INTEGER;
ALTER TABLE lines ADD COLUMN caller_id_max_concurrent INTEGER;
-- 'in' | 'out' | NULL (automatic)
ALTER TABLE lines ADD COLUMN health_override TEXT;

-- Share of dispatch against other tenants.
ALTER TABLE tenants ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;
