-- Accounts: organizations, users, permissions, roles, memberships, API and device tokens,
-- and the event outbox every later area writes to.

CREATE TABLE organizations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The parties this organization plays; one organization may play several.
    parties    text[] NOT NULL CHECK (
                   cardinality(parties) >= 1
                   AND parties <@ ARRAY['shipper', 'consignee', 'carrier']::text[]),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- The permission catalogue. The application's Permission enum must list exactly these codes
-- (a test compares them); roles can only name codes that exist here.
CREATE TABLE permissions (
    code        text PRIMARY KEY,
    description text NOT NULL
);
INSERT INTO permissions (code, description) VALUES
    ('org.manage_members', 'Add and remove members, grant and take back their roles'),
    ('org.manage_roles',   'Create, change and delete the organization''s custom roles'),
    ('org.manage_tokens',  'Issue and revoke API tokens for integrations'),
    ('sites.manage',       'Manage pickup and delivery sites, docks and slot calendars'),
    ('jobs.post',          'Post shipping jobs and cancel them before award'),
    ('jobs.award',         'Award bids, manage the pickup authorizations the organization issues'),
    ('jobs.bid',           'Grab jobs and place bids for the carrier'),
    ('fleet.manage',       'Manage vehicles and drivers, issue and revoke driver device tokens'),
    ('loads.dispatch',     'Plan loads, confirm plans, assign vehicles and drivers'),
    ('gate.operate',       'Verify pickup codes, check trucks in and call them to docks'),
    ('evidence.record',    'Record loading evidence: weights, seals, photos, samples'),
    ('receipt.confirm',    'Confirm receipt of loads and record discrepancies'),
    ('tracking.view',      'Watch live tracking of the organization''s shipments'),
    ('events.read',        'Read the organization''s events feed'),
    ('webhooks.manage',    'Manage webhook subscriptions'),
    ('drive',              'Act as a driver; device tokens are issued only to members with it');

-- Built-in roles have no organization and are shared by all; custom roles belong to one.
CREATE TABLE roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,49}$'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- NULLS NOT DISTINCT: two built-in roles cannot share a name either.
    UNIQUE NULLS NOT DISTINCT (org_id, name)
);
CREATE INDEX roles_org_idx ON roles (org_id);

CREATE TABLE role_permissions (
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES permissions (code),
    PRIMARY KEY (role_id, permission)
);

WITH builtin (name, description, perms) AS (VALUES
    ('admin',       'Everything an organization can do, except driving',
        ARRAY['org.manage_members', 'org.manage_roles', 'org.manage_tokens', 'sites.manage',
              'jobs.post', 'jobs.award', 'jobs.bid', 'fleet.manage', 'loads.dispatch',
              'gate.operate', 'evidence.record', 'receipt.confirm', 'tracking.view',
              'events.read', 'webhooks.manage']),
    ('shipper',     'Posts jobs from the organization''s sites and awards them',
        ARRAY['sites.manage', 'jobs.post', 'jobs.award', 'tracking.view', 'events.read']),
    ('buyer',       'Posts or receives jobs, authorizes carriers, confirms receipt',
        ARRAY['jobs.post', 'jobs.award', 'receipt.confirm', 'tracking.view', 'events.read']),
    ('dispatcher',  'Grabs and bids on jobs, runs the fleet and dispatches loads',
        ARRAY['jobs.bid', 'fleet.manage', 'loads.dispatch', 'tracking.view', 'events.read']),
    ('gate_staff',  'Runs the gate and records loading evidence',
        ARRAY['gate.operate', 'evidence.record', 'tracking.view']),
    ('driver',      'Drives loads through the driver app',
        ARRAY['drive']),
    ('viewer',      'Watches tracking and reads events',
        ARRAY['tracking.view', 'events.read']),
    ('integration', 'For ERP integrations: posts jobs, reads events, manages webhooks',
        ARRAY['jobs.post', 'tracking.view', 'events.read', 'webhooks.manage'])
), inserted AS (
    INSERT INTO roles (org_id, name, description)
    SELECT NULL, name, description FROM builtin
    RETURNING id, name
)
INSERT INTO role_permissions (role_id, permission)
SELECT inserted.id, unnest(builtin.perms) FROM inserted JOIN builtin USING (name);

CREATE TABLE memberships (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE membership_roles (
    org_id  uuid NOT NULL,
    user_id uuid NOT NULL,
    role_id uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    PRIMARY KEY (org_id, user_id, role_id),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);

-- A grant may only name a built-in role or one of the same organization: the last line of
-- defence behind the queries, which already scope by organization.
CREATE FUNCTION role_belongs_to_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM roles
                   WHERE id = NEW.role_id AND (org_id IS NULL OR org_id = NEW.org_id)) THEN
        RAISE EXCEPTION 'role % is not available to organization %', NEW.role_id, NEW.org_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER membership_roles_role_in_org BEFORE INSERT OR UPDATE ON membership_roles
    FOR EACH ROW EXECUTE FUNCTION role_belongs_to_org();

-- Integrations' credentials: the secret is shown once; only its SHA-256 is stored (a random
-- 256-bit secret needs no slow KDF, and a hash lookup keeps authentication to one index probe).
CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_org_idx ON api_tokens (org_id, created_at);
CREATE TRIGGER api_tokens_role_in_org BEFORE INSERT OR UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION role_belongs_to_org();

-- Drivers' phones: issued by the carrier to one of its members; dies with the membership.
CREATE TABLE device_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL,
    user_id    uuid NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX device_tokens_org_idx ON device_tokens (org_id, created_at);

-- The outbox: every state change writes one row here in its own transaction. `org_ids` are the
-- organizations allowed to read the event (a job's event concerns several parties).
CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    type          text NOT NULL,
    org_ids       uuid[] NOT NULL CHECK (cardinality(org_ids) >= 1),
    subject_type  text NOT NULL,
    subject_id    text NOT NULL,
    actor_user_id uuid,
    data          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_org_ids_idx ON events USING gin (org_ids);
CREATE INDEX events_subject_idx ON events (subject_type, subject_id, id);
