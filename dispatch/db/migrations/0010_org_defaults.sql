-- Regional settings (dispatch/accounts/regional.py). Every organization has a country (ISO 3166-1
-- alpha-2), a currency (ISO 4217), a time zone (IANA, checked by the application with zoneinfo) and a
-- locale. Organizations made before this get Austria, EUR, Europe/Vienna and English: the platform's
-- first market, what their jobs were posted in and their pages spoke, so nothing they see changes.
-- The defaults stay on the columns so that an INSERT naming none of them keeps working.
ALTER TABLE organizations
    ADD COLUMN country  text NOT NULL DEFAULT 'AT' CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN timezone text NOT NULL DEFAULT 'Europe/Vienna' CHECK (length(timezone) BETWEEN 1 AND 64),
    ADD COLUMN locale   text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'zh-CN'));

-- The person's own language, whichever organization they act for; NULL: not chosen (the request's
-- Accept-Language, then the organization's locale, decide).
ALTER TABLE users ADD COLUMN locale text CHECK (locale IN ('en', 'zh-CN'));

-- A site's address in parts (dispatch/sites/addresses.py): province, city, district, street,
-- number, postcode and country, as given; `address` stays the one-line text every client reads.
-- Sites made before this have no parts (NULL), and so no country. The country column is the parts'
-- own, kept beside them for queries; the check keeps the two equal.
ALTER TABLE sites
    ADD COLUMN address_parts jsonb CHECK (address_parts IS NULL OR jsonb_typeof(address_parts) = 'object'),
    ADD COLUMN country text CHECK (country ~ '^[A-Z]{2}$'),
    ADD CONSTRAINT sites_country_of_parts CHECK (country IS NOT DISTINCT FROM address_parts ->> 'country');
