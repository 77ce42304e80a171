-- The Flask service's database as `pg_dump --inserts --no-owner` shows it (SPEC-practice §3):
-- Flask-SQLAlchemy's create_all on PostgreSQL (SERIAL ids, no server defaults: Flask sets them
-- in Python), the seven practice tables and "user", no Django table. Passwords: see README.md.
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE TABLE public.assistant_scenarios (
    id integer NOT NULL,
    scenario_text text NOT NULL,
    additional_instructions text,
    enable boolean,
    role text,
    openid text,
    communication_preferences text
);
CREATE SEQUENCE public.assistant_scenarios_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.assistant_scenarios_id_seq OWNED BY public.assistant_scenarios.id;

CREATE TABLE public.assistant_tags (
    id integer NOT NULL,
    tag text,
    scenario_id integer
);
CREATE SEQUENCE public.assistant_tags_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.assistant_tags_id_seq OWNED BY public.assistant_tags.id;

CREATE TABLE public.rubric_questions (
    id integer NOT NULL,
    question text,
    scenario_id integer
);
CREATE SEQUENCE public.rubric_questions_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.rubric_questions_id_seq OWNED BY public.rubric_questions.id;

CREATE TABLE public.categories (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    total_required_to_pass integer
);
CREATE SEQUENCE public.categories_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.categories_id_seq OWNED BY public.categories.id;

CREATE TABLE public.subcategories (
    id integer NOT NULL,
    name character varying(255) NOT NULL,
    marking_instructions text,
    category_id integer
);
CREATE SEQUENCE public.subcategories_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.subcategories_id_seq OWNED BY public.subcategories.id;

CREATE TABLE public.activities (
    id integer NOT NULL,
    pre_brief text,
    character_id integer
);
CREATE SEQUENCE public.activities_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.activities_id_seq OWNED BY public.activities.id;

CREATE TABLE public.activity_categories (
    activity_id integer NOT NULL,
    category_id integer NOT NULL
);

CREATE TABLE public."user" (
    id integer NOT NULL,
    username character varying(80) NOT NULL,
    email character varying(120) NOT NULL,
    password character varying(255) NOT NULL,
    role character varying(20)
);
CREATE SEQUENCE public.user_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.user_id_seq OWNED BY public."user".id;

ALTER TABLE ONLY public.assistant_scenarios ALTER COLUMN id SET DEFAULT nextval('public.assistant_scenarios_id_seq'::regclass);
ALTER TABLE ONLY public.assistant_tags ALTER COLUMN id SET DEFAULT nextval('public.assistant_tags_id_seq'::regclass);
ALTER TABLE ONLY public.rubric_questions ALTER COLUMN id SET DEFAULT nextval('public.rubric_questions_id_seq'::regclass);
ALTER TABLE ONLY public.categories ALTER COLUMN id SET DEFAULT nextval('public.categories_id_seq'::regclass);
ALTER TABLE ONLY public.subcategories ALTER COLUMN id SET DEFAULT nextval('public.subcategories_id_seq'::regclass);
ALTER TABLE ONLY public.activities ALTER COLUMN id SET DEFAULT nextval('public.activities_id_seq'::regclass);
ALTER TABLE ONLY public."user" ALTER COLUMN id SET DEFAULT nextval('public.user_id_seq'::regclass);

INSERT INTO public.assistant_scenarios VALUES (1, 'You are Margaret Hill, 67, a retired teacher with chest pain since yesterday.', 'Stay anxious but polite.', true, 'Elderly Woman', 'asst_3fQ9kLx2PzA7', 'Prefers plain words, no jargon.');
INSERT INTO public.assistant_scenarios VALUES (2, 'You are Tom, 8, brought in by his mother with a cough.', '', false, 'Boy', 'asst_Bz81mQnR0cYw', NULL);
INSERT INTO public.assistant_scenarios VALUES (4, '你是王丽，35岁，头痛三天。', NULL, true, 'Adult Woman', '', NULL);

INSERT INTO public.assistant_tags VALUES (1, 'cardiology', 1);
INSERT INTO public.assistant_tags VALUES (2, 'emergency', 1);
INSERT INTO public.assistant_tags VALUES (3, 'paediatrics', 2);
INSERT INTO public.assistant_tags VALUES (4, NULL, NULL);

INSERT INTO public.rubric_questions VALUES (1, 'Did the student introduce themselves?', 1);
INSERT INTO public.rubric_questions VALUES (2, 'Did the student ask about the onset of the pain?', 1);
INSERT INTO public.rubric_questions VALUES (3, '学生是否询问了头痛的部位？', 4);

INSERT INTO public.categories VALUES (1, 'Initiating the session', 3);
INSERT INTO public.categories VALUES (2, 'Gathering information', NULL);

INSERT INTO public.subcategories VALUES (1, 'Greets and introduces self', '2 if name and role are given; 1 if one of them; 0 otherwise.', 1);
INSERT INTO public.subcategories VALUES (2, 'Confirms patient identity', NULL, 1);
INSERT INTO public.subcategories VALUES (3, 'Open questions first', '2 if the first question about the problem is open.', 2);

INSERT INTO public.activities VALUES (1, 'Take a focused history from Mrs Hill in the emergency department.', 1);
INSERT INTO public.activities VALUES (2, NULL, 2);

INSERT INTO public.activity_categories VALUES (1, 1);
INSERT INTO public.activity_categories VALUES (1, 2);
INSERT INTO public.activity_categories VALUES (2, 2);

INSERT INTO public."user" VALUES (1, 'drlee', 'Lee@Hospital.example', '$pbkdf2-sha256$29000$E4Jh/gCbcQ7EG9KIEH4B/w$j76zroHDmbR.QLJHoRgWyrukaAjVVyiuqqLMGpa1bas', 'admin');
INSERT INTO public."user" VALUES (2, 'sam', 'sam.green@uni.example', '$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k', 'student');
INSERT INTO public."user" VALUES (3, 'sam', 'sam.white@uni.example', '$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$UTYQL/GaO/GgAl11wA7grI/rmDl8hD0U.TFQR6NZ1/U', 'student');
INSERT INTO public."user" VALUES (5, '王芳', 'wang.fang@uni.example', '$pbkdf2-sha256$12000$qrvM3e7/ABEiM0RVZneImQ$J3rO2WgA02eCVR4w/poy1KMe4YYkST6GKr.L65WrxMA', NULL);

SELECT pg_catalog.setval('public.assistant_scenarios_id_seq', 4, true);
SELECT pg_catalog.setval('public.assistant_tags_id_seq', 4, true);
SELECT pg_catalog.setval('public.rubric_questions_id_seq', 3, true);
SELECT pg_catalog.setval('public.categories_id_seq', 2, true);
SELECT pg_catalog.setval('public.subcategories_id_seq', 3, true);
SELECT pg_catalog.setval('public.activities_id_seq', 2, true);
SELECT pg_catalog.setval('public.user_id_seq', 5, true);

ALTER TABLE ONLY public.assistant_scenarios ADD CONSTRAINT assistant_scenarios_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.assistant_tags ADD CONSTRAINT assistant_tags_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.rubric_questions ADD CONSTRAINT rubric_questions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.categories ADD CONSTRAINT categories_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.subcategories ADD CONSTRAINT subcategories_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.activities ADD CONSTRAINT activities_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.activity_categories ADD CONSTRAINT activity_categories_pkey PRIMARY KEY (activity_id, category_id);
ALTER TABLE ONLY public."user" ADD CONSTRAINT user_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public."user" ADD CONSTRAINT user_email_key UNIQUE (email);

ALTER TABLE ONLY public.assistant_tags ADD CONSTRAINT assistant_tags_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.assistant_scenarios(id);
ALTER TABLE ONLY public.rubric_questions ADD CONSTRAINT rubric_questions_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.assistant_scenarios(id);
ALTER TABLE ONLY public.subcategories ADD CONSTRAINT subcategories_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.categories(id);
ALTER TABLE ONLY public.activities ADD CONSTRAINT activities_character_id_fkey FOREIGN KEY (character_id) REFERENCES public.assistant_scenarios(id);
ALTER TABLE ONLY public.activity_categories ADD CONSTRAINT activity_categories_activity_id_fkey FOREIGN KEY (activity_id) REFERENCES public.activities(id);
ALTER TABLE ONLY public.activity_categories ADD CONSTRAINT activity_categories_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.categories(id);
